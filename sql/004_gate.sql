-- The SOP 004 gate: requests, their documents, the SLA clock per step, and the notice outbox.

-- The mutu baku: each step's time limit (NULL: none) and who takes it. Editable per LPSE.
CREATE TABLE sla_standards (
    step       integer PRIMARY KEY CHECK (step BETWEEN 1 AND 9),
    minutes    integer CHECK (minutes > 0),
    actor_role text NOT NULL,
    activity   text NOT NULL
);
INSERT INTO sla_standards (step, minutes, actor_role, activity) VALUES
    (1, NULL, 'helpdesk', 'submit the request file'),
    (2, 5, 'staf_administrasi', 'check the file is complete'),
    (3, 5, 'staf_administrasi', 'notice to complete the file'),
    (4, NULL, 'helpdesk', 'supplement the file'),
    (5, 15, 'admin_ppe', 'check the file is valid'),
    (6, 15, 'admin_ppe', 'reset the password / look up the user ID'),
    (7, 5, 'admin_ppe', 'rejection notice'),
    (8, 10, 'admin_ppe', 'notice of the new password / user ID'),
    (9, 5, 'staf_administrasi', 'archive the file');

-- Which documents a complete file holds, per role of the account concerned.
CREATE TABLE document_requirements (
    subject_role  text NOT NULL,
    document_type text NOT NULL CHECK (document_type IN ('surat_permohonan', 'sk_pengangkatan', 'other')),
    PRIMARY KEY (subject_role, document_type)
);
INSERT INTO document_requirements (subject_role, document_type)
SELECT role, doc FROM (VALUES ('helpdesk'), ('admin_agency'), ('verifikator'), ('auditor')) r(role)
CROSS JOIN (VALUES ('surat_permohonan'), ('sk_pengangkatan')) d(doc);

CREATE TABLE request_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE requests (
    id                      bigserial PRIMARY KEY,
    number                  text NOT NULL UNIQUE,
    kinds                   text[] NOT NULL CHECK (kinds <@ ARRAY['reset_password', 'user_id_info'] AND cardinality(kinds) > 0),
    state                   text NOT NULL CHECK (state IN ('submitted', 'incomplete', 'awaiting_supplement', 'complete', 'approved',
                                                           'invalid', 'executed', 'rejected', 'notified', 'archived')),
    subject_role            text NOT NULL,
    subject_hint            jsonb NOT NULL,
    subject_account_id      bigint REFERENCES accounts,
    requester_user_id       text,
    requester_name          text NOT NULL,
    requester_contact       text NOT NULL,
    channel                 text NOT NULL CHECK (channel IN ('hardcopy', 'email')),
    priority                text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    submitted_by            text NOT NULL,
    completeness_checked_by text,
    missing_documents       text[],
    validated_by            text,
    rejection_reason        text,
    executed_by             text,
    disclosed_user_id       text,
    receipt_confirmed_at    timestamptz,
    receipt_confirmed_by    text,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL
);
CREATE INDEX requests_open ON requests (state) WHERE state <> 'archived';
CREATE INDEX requests_subject ON requests (subject_account_id);

CREATE TABLE request_documents (
    id          bigserial PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES requests,
    type        text NOT NULL CHECK (type IN ('surat_permohonan', 'sk_pengangkatan', 'other')),
    file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    media_type  text NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size        integer NOT NULL CHECK (size > 0),
    sha256      bytea NOT NULL CHECK (length(sha256) = 32),
    content     bytea NOT NULL,
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL
);
CREATE INDEX request_documents_request ON request_documents (request_id);

-- The SLA clock: one row per step taken, from when it became actionable to when it was done.
CREATE TABLE request_steps (
    id         bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES requests,
    step       integer NOT NULL CHECK (step BETWEEN 1 AND 9),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz CHECK (ended_at >= started_at),
    actor      text,
    outcome    text
);
CREATE INDEX request_steps_request ON request_steps (request_id, id);
CREATE UNIQUE INDEX request_steps_one_open ON request_steps (request_id) WHERE ended_at IS NULL;
CREATE INDEX request_steps_ended ON request_steps (ended_at) WHERE ended_at IS NOT NULL;

-- Notices to requesters (steps 3, 7, 8). Never holds a password.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    request_id      bigint NOT NULL REFERENCES requests,
    step            integer NOT NULL CHECK (step IN (3, 7, 8)),
    recipient       text NOT NULL,
    channel         text NOT NULL,
    subject_id      text NOT NULL,
    body_id         text NOT NULL,
    subject_en      text NOT NULL,
    body_en         text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- An archived request file is final: the request, its documents and its steps refuse changes.
CREATE FUNCTION requests_refuse_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'requests' THEN
        IF OLD.state = 'archived' THEN
            RAISE EXCEPTION 'request % is archived and cannot change', OLD.number USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM requests
                  WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.request_id ELSE NEW.request_id END AND state = 'archived') THEN
        RAISE EXCEPTION 'the request is archived; its % cannot change', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER requests_archived_final BEFORE UPDATE OR DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION requests_refuse_archived();
CREATE TRIGGER request_documents_archived_final BEFORE INSERT OR UPDATE OR DELETE ON request_documents
    FOR EACH ROW EXECUTE FUNCTION requests_refuse_archived();
CREATE TRIGGER request_steps_archived_final BEFORE INSERT OR UPDATE OR DELETE ON request_steps
    FOR EACH ROW EXECUTE FUNCTION requests_refuse_archived();
