-- Logout at the OpenID provider (issue 25): RP-initiated logout (post-logout redirect URIs,
-- compared exactly) and back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a
-- browser session here ends, every application it signed the user in to is told, by a signed
-- logout token POSTed to its back-channel logout URI.

ALTER TABLE oidc_clients ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(post_logout_redirect_uris) <= 10);

-- The applications a browser session signed the user in to: a row per code redeemed for it.
CREATE TABLE oidc_session_clients (
    session_digest bytea NOT NULL CHECK (length(session_digest) = 32),
    client_id      text NOT NULL REFERENCES oidc_clients,
    account_id     bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    sid            text NOT NULL,
    first_at       timestamptz NOT NULL,
    PRIMARY KEY (session_digest, client_id)
);

-- Logout tokens to deliver: one per ended session and application, whoever ended the session.
CREATE TABLE oidc_logouts (
    id              bigserial PRIMARY KEY,
    session_digest  bytea NOT NULL,
    client_id       text NOT NULL REFERENCES oidc_clients,
    account_id      bigint NOT NULL REFERENCES accounts ON DELETE CASCADE,
    sid             text NOT NULL,
    queued_at       timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    delivered_at    timestamptz,
    given_up_at     timestamptz,
    last_error      text,
    UNIQUE (session_digest, client_id)
);
CREATE INDEX oidc_logouts_due ON oidc_logouts (next_attempt_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;

-- One rule for every way a session ends (sign-out, a reset through the gate, a change, a disable,
-- an authenticator reset, ending other sessions): the revocation itself queues the logouts, in its
-- own transaction, so none is forgotten by a path that revokes sessions and none is queued for a
-- revocation that rolled back.
CREATE FUNCTION oidc_queue_logouts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO oidc_logouts (session_digest, client_id, account_id, sid, queued_at, next_attempt_at)
    SELECT sc.session_digest, sc.client_id, sc.account_id, sc.sid, NEW.revoked_at, NEW.revoked_at
    FROM oidc_session_clients sc JOIN oidc_clients c ON c.client_id = sc.client_id
    WHERE sc.session_digest = NEW.token_hash AND c.backchannel_logout_uri IS NOT NULL AND c.disabled_at IS NULL
    ON CONFLICT (session_digest, client_id) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_oidc_logout AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION oidc_queue_logouts();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE ON oidc_session_clients TO spse_service;
        GRANT SELECT, INSERT, UPDATE ON oidc_logouts TO spse_service;
        GRANT USAGE ON SEQUENCE oidc_logouts_id_seq TO spse_service;
    END IF;
END
$$;
