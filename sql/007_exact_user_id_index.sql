-- User IDs are stored lower-case (the CHECK on accounts.user_id allows nothing else), so every
-- query matches `user_id = $1`; the unique index on lower(user_id) cannot serve that form, and
-- at a million accounts login, show, disable and the gate's subject lookup were sequential scans
-- (found by `spse-bench lookup`). This index serves them.
CREATE UNIQUE INDEX accounts_user_id_exact ON accounts (user_id);
