-- A second factor for operators (TOTP, RFC 6238), one-time recovery codes, the login challenge
-- between the password and the code, and the step-up a session needs for SOP step 6.

-- The shared secret is sealed (AES-GCM) with a key kept outside the database (SPSE_SECRETS_KEY_FILE):
-- a copy of the database holds no usable secret. `last_step` refuses a code used before (replay).
CREATE TABLE account_totp (
    account_id    bigint PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    -- The session that started an unconfirmed enrolment: only it sees the key and confirms it, so
    -- nobody who merely knows the password can plant a key the owner then confirms.
    enrolling_session bytea
);

-- Ten per enrolment, each usable once; only an HMAC of the code is stored.
CREATE TABLE recovery_codes (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    code_mac   bytea NOT NULL CHECK (length(code_mac) = 32),
    created_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id) WHERE used_at IS NULL;

-- The password was right; the code is due. Short-lived, used once, only its SHA-256 stored.
CREATE TABLE login_challenges (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    used_at    timestamptz
);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);

-- A session that must enrol its authenticator before anything else, and when its owner last
-- proved the second factor (SOP step 6 needs it to be recent).
ALTER TABLE sessions DROP CONSTRAINT sessions_scope_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_scope_check CHECK (scope IN ('full', 'change_password_only', 'totp_enrolment'));
ALTER TABLE sessions ADD COLUMN stepped_up_at timestamptz;

-- Sealed delivery: the half of a temporary password that goes to the e-mail on file, sealed like
-- the TOTP secrets until the moment it is sent.
ALTER TABLE outbox ADD COLUMN sealed bytea;
ALTER TABLE outbox DROP CONSTRAINT outbox_step_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_step_check CHECK (step IN (3, 6, 7, 8));

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON account_totp, recovery_codes, login_challenges TO spse_service;
        GRANT USAGE ON SEQUENCE recovery_codes_id_seq TO spse_service;
    END IF;
END
$$;
