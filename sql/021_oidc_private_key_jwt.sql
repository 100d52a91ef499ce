-- Client authentication by `private_key_jwt` (OpenID Connect Core §9, RFC 7523): the client signs
-- a short assertion with its own key; the provider keeps only the client's public keys (JWKS)
-- and the `jti` of each assertion until it expires, so none is accepted twice.

ALTER TABLE oidc_clients ADD COLUMN jwks jsonb CHECK (jwks IS NULL OR jsonb_typeof(jwks) = 'array');
-- A client proves itself one way: a secret or keys, not both.
ALTER TABLE oidc_clients ADD CONSTRAINT oidc_clients_one_credential CHECK (secret_digest IS NULL OR jwks IS NULL);
-- A client with keys is confidential too: it may be let off PKCE like one with a secret.
DO $$
DECLARE name text;
BEGIN
    SELECT conname INTO STRICT name FROM pg_constraint
    WHERE conrelid = 'oidc_clients'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%pkce_exempt%';
    EXECUTE format('ALTER TABLE oidc_clients DROP CONSTRAINT %I', name);
END
$$;
ALTER TABLE oidc_clients ADD CONSTRAINT oidc_clients_pkce_exempt_check CHECK (NOT pkce_exempt OR secret_digest IS NOT NULL OR jwks IS NOT NULL);

CREATE TABLE oidc_client_assertions (
    client_id  text NOT NULL REFERENCES oidc_clients,
    jti        text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oidc_client_assertions_expiry ON oidc_client_assertions (expires_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, DELETE ON oidc_client_assertions TO spse_service;
    END IF;
END
$$;
