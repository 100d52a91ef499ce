-- The audit chain off the hot path (issue 22). A caller's transaction inserts its rows unsealed
-- (no lock, no read of the chain's head); one sealer at a time — any `serve`, under an advisory
-- lock — chains the committed rows: it numbers them in `seq` after the last sealed row, in the
-- order it finds them, and sets each one's `prev_hash` and `hash`, as a transparency log
-- sequences its queue (RFC 9162). The chain is the order of `seq`, not of `id`: a row that
-- commits late is chained late. Tamper evidence is the same as before: editing, removing or
-- reordering a sealed row breaks the chain at that row, and `audit verify` also names rows left
-- unsealed longer than the sealer's bound.
ALTER TABLE audit_events ADD COLUMN seq bigint;
ALTER TABLE audit_events ALTER COLUMN hash DROP NOT NULL;
-- When the row reached the table (its transaction's start), to measure the unsealed window.
ALTER TABLE audit_events ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE audit_events ADD COLUMN sealed_at timestamptz;

-- Rows chained so far were chained in id order.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events SET seq = id, sealed_at = recorded_at;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE seq IS NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_sealed_whole
    CHECK ((seq IS NULL AND hash IS NULL AND sealed_at IS NULL) OR (seq IS NOT NULL AND hash IS NOT NULL AND sealed_at IS NOT NULL));

-- Append-only, except the one change the sealer makes: an unsealed row gets its place and hashes,
-- once, with its content untouched.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
       AND NEW.subject IS NOT DISTINCT FROM OLD.subject AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id
       AND NEW.details = OLD.details AND NEW.recorded_at = OLD.recorded_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Seals up to `batch` committed rows; 0 when another sealer holds the chain. Runs as the schema's
-- owner, so the service role seals without any right to UPDATE the table itself.
CREATE FUNCTION audit_seal(batch integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    head bytea;
    last_seq bigint;
    next_hash bytea;
    sealed integer := 0;
    r record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7365706101) THEN
        RETURN 0;
    END IF;
    SELECT hash, seq INTO head, last_seq FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    FOR r IN SELECT id, occurred_at, actor, action, subject, request_id, details FROM audit_events
             WHERE seq IS NULL ORDER BY id LIMIT batch LOOP
        last_seq := coalesce(last_seq, 0) + 1;
        next_hash := sha256(coalesce(head, ''::bytea) || audit_canonical(r.occurred_at, r.actor, r.action, r.subject, r.request_id, r.details));
        UPDATE audit_events SET seq = last_seq, prev_hash = head, hash = next_hash, sealed_at = clock_timestamp() WHERE id = r.id;
        head := next_hash;
        sealed := sealed + 1;
    END LOOP;
    RETURN sealed;
END
$$;
REVOKE ALL ON FUNCTION audit_seal(integer) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT EXECUTE ON FUNCTION audit_seal(integer) TO spse_service;
    END IF;
END
$$;
