-- The audit trail: one append-only table, hash-chained. Each row's hash is
-- SHA-256(previous row's hash || its own canonical content), so editing or removing a row breaks
-- the chain at that row (`spse-accounts audit verify`). The database refuses UPDATE, DELETE and
-- TRUNCATE; only a superuser who disables the trigger can change a row, and verify finds that.
CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text,
    request_id  text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash   bytea,
    hash        bytea NOT NULL
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_action ON audit_events (action, occurred_at);

-- The canonical content: every field length-prefixed, so no field can spill into the next.
CREATE FUNCTION audit_canonical(occurred_at timestamptz, actor text, action text, subject text,
                                request_id text, details jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(
        (extract(epoch FROM occurred_at) * 1000000)::bigint::text || '|' ||
        length(actor) || ':' || actor || '|' ||
        length(action) || ':' || action || '|' ||
        coalesce(length(subject) || ':' || subject, '-') || '|' ||
        coalesce(length(request_id) || ':' || request_id, '-') || '|' ||
        details::text, 'UTF8')
$$;

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
