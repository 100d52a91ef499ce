-- The OpenID provider (issue 25): the LPSE's other applications sign their users in here.
-- Secrets are stored as digests (client secrets, codes, access tokens) or sealed with the
-- deployment's secrets key (signing keys); nothing here can be replayed from a copy of the database.

-- `sub`: opaque, stable per account, the same for every client, and no key to lose.
ALTER TABLE accounts ADD COLUMN oidc_subject uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX accounts_oidc_subject ON accounts (oidc_subject);

-- Relying parties, registered by an Admin PPE.
CREATE TABLE oidc_clients (
    client_id      text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    redirect_uris  text[] NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 10),
    -- SHA-256 of a 256-bit random secret (shown once); NULL for a public client.
    secret_digest  bytea CHECK (secret_digest IS NULL OR length(secret_digest) = 32),
    allowed_claims text[] NOT NULL,
    backchannel_logout_uri text,
    -- A confidential client that sends a nonce may be let off PKCE by an operator (audited).
    pkce_exempt    boolean NOT NULL DEFAULT false CHECK (NOT pkce_exempt OR secret_digest IS NOT NULL),
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    disabled_at    timestamptz
);

-- Signing keys, sealed at rest. A key is published (JWKS) from created_at and signs from
-- signs_from, so relying parties have fetched it before the first token it signs.
CREATE TABLE oidc_signing_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    sealed_key   bytea NOT NULL,
    public_jwk   jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    signs_from   timestamptz NOT NULL,
    retired_at   timestamptz
);

-- Authorization codes: one use, a minute of life, bound to the client, the redirect URI, the
-- PKCE challenge and the browser session that authorized it.
CREATE TABLE oidc_codes (
    code_digest    bytea PRIMARY KEY CHECK (length(code_digest) = 32),
    client_id      text NOT NULL REFERENCES oidc_clients,
    account_id     bigint NOT NULL REFERENCES accounts,
    redirect_uri   text NOT NULL,
    code_challenge text,
    nonce          text,
    scopes         text[] NOT NULL,
    sid            text NOT NULL,
    -- The browser session that authorized (its token's digest): when it ends, so does what it gave.
    session_digest bytea NOT NULL,
    auth_time      timestamptz NOT NULL,
    amr            text[] NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    redeemed_at    timestamptz
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

-- Access tokens (opaque, digest only), for userinfo and introspection.
CREATE TABLE oidc_access_tokens (
    token_digest bytea PRIMARY KEY CHECK (length(token_digest) = 32),
    client_id    text NOT NULL REFERENCES oidc_clients,
    account_id   bigint NOT NULL REFERENCES accounts,
    code_digest  bytea NOT NULL,
    scopes       text[] NOT NULL,
    sid          text NOT NULL,
    session_digest bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX oidc_access_tokens_code ON oidc_access_tokens (code_digest);
CREATE INDEX oidc_access_tokens_account ON oidc_access_tokens (account_id) WHERE revoked_at IS NULL;

-- Consent, asked once per client and set of scopes.
CREATE TABLE oidc_consents (
    account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES oidc_clients,
    scopes     text[] NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE ON oidc_clients, oidc_signing_keys, oidc_codes, oidc_access_tokens TO spse_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_consents TO spse_service;
    END IF;
END
$$;
