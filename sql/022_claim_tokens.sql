-- The claim a dispatcher puts on the notices and logouts it takes: when the claim's commit is in
-- doubt (the primary died while it was being acknowledged), the dispatcher releases exactly the
-- rows it may have claimed, on the new primary, instead of leaving them to the lease.
ALTER TABLE outbox ADD COLUMN claim bytea;
ALTER TABLE oidc_logouts ADD COLUMN claim bytea;
