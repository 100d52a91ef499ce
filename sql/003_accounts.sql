-- Accounts, their previous passwords and their sessions. Secrets are stored only as Argon2id PHC
-- strings (passwords) or SHA-256 digests (session tokens).
CREATE TABLE accounts (
    id                       bigserial PRIMARY KEY,
    user_id                  text NOT NULL CHECK (user_id ~ '^[a-z0-9._-]{3,64}$'),
    role                     text NOT NULL CHECK (role IN ('admin_ppe', 'staf_administrasi', 'helpdesk', 'admin_agency', 'verifikator', 'auditor')),
    full_name                text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    nip                      text CHECK (nip ~ '^[0-9]{18}$'),
    email                    text NOT NULL,
    agency                   text NOT NULL,
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash            text,
    must_change_password     boolean NOT NULL DEFAULT true,
    temp_password_expires_at timestamptz,
    failed_attempts          integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    lockouts                 integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until             timestamptz,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL
);
CREATE UNIQUE INDEX accounts_user_id ON accounts (lower(user_id));
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));
CREATE UNIQUE INDEX accounts_nip ON accounts (nip) WHERE nip IS NOT NULL;
CREATE INDEX accounts_full_name_trgm ON accounts USING gin (lower(full_name) gin_trgm_ops);
CREATE INDEX accounts_agency_trgm ON accounts USING gin (lower(agency) gin_trgm_ops);
CREATE INDEX accounts_role ON accounts (role);

CREATE TABLE password_history (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    password_hash text NOT NULL,
    replaced_at   timestamptz NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, id DESC);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id   bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    scope        text NOT NULL CHECK (scope IN ('full', 'change_password_only')),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL;
