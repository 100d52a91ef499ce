-- SOP 004 to the letter: what the steps record besides their time (the step-2 note, the step-5
-- acknowledgement of a hint that does not match the account, the step-8 hand-over), each step's
-- limit as it stood when the step opened (step 6's from the priority table), the deviations the
-- actor must account for, and the retention of documents.

-- Migrations run as the database owner; history written before this migration is completed here.
ALTER TABLE request_steps DISABLE TRIGGER request_steps_archived_final;
ALTER TABLE requests DISABLE TRIGGER requests_archived_final;

ALTER TABLE requests
    ADD COLUMN completeness_note text CHECK (length(completeness_note) <= 2000),
    ADD COLUMN hint_mismatch text[],
    ADD COLUMN mismatch_acknowledgement text CHECK (length(mismatch_acknowledgement) <= 2000);

-- SPSE's problem-resolution priorities and step 6's limit for each. The SOP's 15 minutes is the
-- limit of a normal request; an admin_ppe edits the table through an audited operation.
CREATE TABLE priority_limits (
    priority      text PRIMARY KEY CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    step6_minutes integer NOT NULL CHECK (step6_minutes BETWEEN 1 AND 10080),
    updated_by    text NOT NULL,
    updated_at    timestamptz NOT NULL
);
INSERT INTO priority_limits (priority, step6_minutes, updated_by, updated_at) VALUES
    ('urgent', 10, 'migration', now()), ('high', 15, 'migration', now()),
    ('normal', 15, 'migration', now()), ('low', 60, 'migration', now());

-- A step is judged against the limit it had when it opened: editing a standard never rewrites history.
ALTER TABLE request_steps ADD COLUMN limit_minutes integer CHECK (limit_minutes > 0);
UPDATE request_steps s SET limit_minutes = CASE
    WHEN s.step = 6 THEN (SELECT p.step6_minutes FROM priority_limits p JOIN requests r ON r.priority = p.priority WHERE r.id = s.request_id)
    ELSE (SELECT st.minutes FROM sla_standards st WHERE st.step = s.step) END;

ALTER TABLE requests ENABLE TRIGGER requests_archived_final;
ALTER TABLE request_steps ENABLE TRIGGER request_steps_archived_final;

-- Step 8's output: the Admin PPE told the helpdesk (who, to whom, how, when). The notice is its evidence.
CREATE TABLE request_handovers (
    request_id  bigint PRIMARY KEY REFERENCES requests,
    handed_by   text NOT NULL,
    recipient   text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 200),
    channel     text NOT NULL CHECK (channel IN ('phone', 'in_person', 'email', 'letter')),
    handed_at   timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL CHECK (handed_at <= recorded_at)
);
CREATE TRIGGER request_handovers_archived_final BEFORE INSERT OR UPDATE OR DELETE ON request_handovers
    FOR EACH ROW EXECUTE FUNCTION requests_refuse_archived();

-- Who queued a notice: a bounced notice is a deviation of that step's output, theirs to explain.
ALTER TABLE outbox ADD COLUMN queued_by text;

-- Deviations from a step's standard (its time, input or output), each attributed to the person
-- who took the step, with the explanation they owe. Explained once; never deleted.
CREATE TABLE request_deviations (
    id          bigserial PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES requests,
    step        integer NOT NULL CHECK (step BETWEEN 1 AND 9),
    kind        text NOT NULL CHECK (kind IN ('late', 'missing_receipt', 'bounced_notice', 'other_actor')),
    actor       text NOT NULL,
    detail      text NOT NULL,
    detected_at timestamptz NOT NULL,
    explanation text CHECK (length(explanation) <= 2000),
    explained_at timestamptz,
    CHECK ((explanation IS NULL) = (explained_at IS NULL))
);
CREATE INDEX request_deviations_request ON request_deviations (request_id, id);
CREATE INDEX request_deviations_actor ON request_deviations (actor) WHERE explanation IS NULL;

CREATE FUNCTION request_deviations_explain_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a deviation is never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.explanation IS NOT NULL OR NEW.explanation IS NULL
       OR (NEW.id, NEW.request_id, NEW.step, NEW.kind, NEW.actor, NEW.detail, NEW.detected_at)
          IS DISTINCT FROM (OLD.id, OLD.request_id, OLD.step, OLD.kind, OLD.actor, OLD.detail, OLD.detected_at) THEN
        RAISE EXCEPTION 'a deviation is explained once and otherwise never changes' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER request_deviations_final BEFORE UPDATE OR DELETE ON request_deviations
    FOR EACH ROW EXECUTE FUNCTION request_deviations_explain_once();

-- Retention: past it, a document's content is purged; its name, type, size and SHA-256 stay,
-- as do the request, its steps and its audit rows.
ALTER TABLE request_documents ADD COLUMN purged_at timestamptz;

CREATE OR REPLACE FUNCTION requests_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'requests' THEN
        IF OLD.state = 'archived' THEN
            RAISE EXCEPTION 'request % is archived and cannot change', OLD.number USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF TG_TABLE_NAME = 'request_documents' AND TG_OP = 'UPDATE' THEN
        -- The one change an archived file allows: the retention purge of a document's content.
        -- (Nested: plpgsql plans a whole condition, and only this table's rows have purged_at.)
        IF OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL AND NEW.content = ''::bytea
           AND (NEW.id, NEW.request_id, NEW.type, NEW.file_name, NEW.media_type, NEW.size, NEW.sha256, NEW.uploaded_by, NEW.uploaded_at)
               IS NOT DISTINCT FROM (OLD.id, OLD.request_id, OLD.type, OLD.file_name, OLD.media_type, OLD.size, OLD.sha256, OLD.uploaded_by, OLD.uploaded_at) THEN
            RETURN NEW;
        END IF;
        IF EXISTS (SELECT 1 FROM requests WHERE id IN (OLD.request_id, NEW.request_id) AND state = 'archived') THEN
            RAISE EXCEPTION 'the request is archived; its % cannot change', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM requests
                  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.request_id ELSE NEW.request_id END AND state = 'archived') THEN
        RAISE EXCEPTION 'the request is archived; its % cannot change', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    ELSIF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM requests WHERE id = OLD.request_id AND state = 'archived') THEN
        -- Nor can a row be moved out of an archived file to an open one.
        RAISE EXCEPTION 'the request is archived; its % cannot change', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, UPDATE ON priority_limits TO spse_service;
        GRANT SELECT, INSERT ON request_handovers TO spse_service;
        GRANT SELECT, INSERT, UPDATE ON request_deviations TO spse_service;
        GRANT USAGE ON SEQUENCE request_deviations_id_seq TO spse_service;
    END IF;
END
$$;
