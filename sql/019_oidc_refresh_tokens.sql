-- Refresh tokens, rotated on every use (OAuth 2.0 Security BCP, RFC 9700 §4.14.2): each use makes
-- the next generation of its family. A retry within a short window gets the same successor (kept
-- sealed, never in clear, until the successor is used); any other reuse revokes the whole family
-- and the access tokens it gave. A family lives no longer than the browser session that authorized it.
CREATE TABLE oidc_refresh_tokens (
    token_digest     bytea PRIMARY KEY CHECK (length(token_digest) = 32),
    family           bytea NOT NULL,          -- the digest of the family's first token
    generation       integer NOT NULL CHECK (generation >= 0),
    client_id        text NOT NULL REFERENCES oidc_clients,
    account_id       bigint NOT NULL REFERENCES accounts,
    code_digest      bytea NOT NULL,
    scopes           text[] NOT NULL,
    sid              text NOT NULL,
    session_digest   bytea NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    successor_sealed bytea,
    revoked_at       timestamptz,
    UNIQUE (family, generation)
);
CREATE INDEX oidc_refresh_tokens_code ON oidc_refresh_tokens (code_digest);

-- The family an access token was refreshed from, so that a replayed refresh token revokes it.
ALTER TABLE oidc_access_tokens ADD COLUMN refresh_family bytea;
CREATE INDEX oidc_access_tokens_family ON oidc_access_tokens (refresh_family) WHERE refresh_family IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE ON oidc_refresh_tokens TO spse_service;
    END IF;
END
$$;
