-- Exactly once, enforced by the database (issue 20), and throttle state that always ends (issue 21).

-- Every step opens with a guarded write on the request's version: of concurrent steps decided on
-- the same facts, one moves the request and the others find no row, re-read and are refused.
ALTER TABLE requests ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- A notice belongs to the step row it is the output of (step 3, 7 or 8): one notice per step
-- taken, for any number of racers. A step 3 taken again after a supplement is a new row.
ALTER TABLE outbox ADD COLUMN step_id bigint REFERENCES request_steps;
CREATE UNIQUE INDEX outbox_one_notice_per_step ON outbox (step_id) WHERE step IN (3, 7, 8);

-- Facts every instance of a deployment must agree on, recorded by the first one to start:
--   secrets_key_check   HMAC of a fixed text under SPSE_SECRETS_KEY_FILE's key (the key itself never)
--   sealed_delivery     true/false: SPSE_SEALED_DELIVERY
CREATE TABLE deployment_facts (
    name        text PRIMARY KEY CHECK (name IN ('secrets_key_check', 'sealed_delivery')),
    value       text NOT NULL CHECK (length(value) <= 200),
    recorded_at timestamptz NOT NULL
);

-- Attempts being verified now, leased: an attempt whose verdict never arrived (a timeout, a
-- stalled database, a killed process) stops counting when its lease ends, so no throttle row
-- can lock a user without an end.
ALTER TABLE login_throttle ADD COLUMN pending integer NOT NULL DEFAULT 0 CHECK (pending >= 0);
ALTER TABLE login_throttle ADD COLUMN pending_until timestamptz;
-- Before this migration a reservation was counted in failures; an unreturned one stays there
-- with no lock time. Such rows are cleared: the next failure counts from zero.
UPDATE login_throttle SET failures = 0 WHERE locked_until IS NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE ON deployment_facts TO spse_service;
    END IF;
END
$$;
