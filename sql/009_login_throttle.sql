-- Login throttling, shared by every instance on this database. One row per key:
--   u:<sha256 of the user ID as typed, lowercased>              every client address together
--   p:<sha256 of that user ID>:<sha256 of the client address>   one client address
-- User IDs that exist and those that do not are counted alike, so the answers cannot tell them
-- apart, and they are stored only as digests (a password typed into the user-ID field stays
-- unreadable). An attempt is reserved under the row locks before the Argon2 verification and
-- settled after it, so parallel guesses cannot outrun the count.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY CHECK (length(key) <= 200),
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    lockouts      integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);

-- The per-address budget of login attempts (a token bucket), shared by every instance.
CREATE TABLE address_budget (
    address     text PRIMARY KEY CHECK (length(address) <= 100),
    tokens      double precision NOT NULL,
    admitted    boolean NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX address_budget_updated_at ON address_budget (updated_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle, address_budget TO spse_service;
    END IF;
END
$$;
