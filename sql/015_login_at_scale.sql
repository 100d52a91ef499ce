-- Logins at scale (issue 22). The per-address budget is one row per client address, updated by
-- every attempt: everyone behind one NAT address (an LPSE office) queued on that row one disk
-- flush at a time. Unlogged, its updates write no WAL and commit without a flush; what a crash or
-- a failover loses is a budget, which then starts full again — harmless, where a lost lockout
-- would not be (login_throttle stays logged).
ALTER TABLE address_budget SET UNLOGGED;
