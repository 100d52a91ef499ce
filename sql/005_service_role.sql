-- The role the service runs as (design invariant 8): it reads and writes the data, appends to the
-- audit trail, and can neither change the schema nor edit or delete audit rows. Tables stay owned
-- by the migrating role. A login role for `serve` is made a member of it, e.g.
--   CREATE ROLE spse_app LOGIN IN ROLE spse_service;
-- Roles are cluster-wide: created once, when this role may create roles, and reused after.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            BEGIN
                CREATE ROLE spse_service NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration made it a moment ago
            END;
        ELSE
            RAISE NOTICE 'role spse_service does not exist and % may not create it; ask a DBA to run CREATE ROLE spse_service NOLOGIN', current_user;
            RETURN;
        END IF;
    END IF;
    GRANT USAGE ON SCHEMA public TO spse_service;
    GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, password_history, sessions, requests, request_documents,
        request_steps, outbox, request_counters TO spse_service;
    GRANT SELECT ON sla_standards, document_requirements, schema_migrations TO spse_service;
    GRANT SELECT, INSERT ON audit_events TO spse_service;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO spse_service;
END
$$;
