-- The public door (issue 24): a locked-out requester files online, without a session, and
-- follows the request with a tracking code.
ALTER TABLE requests DROP CONSTRAINT requests_channel_check;
ALTER TABLE requests ADD CONSTRAINT requests_channel_check CHECK (channel IN ('hardcopy', 'email', 'online'));
-- SHA-256 of the tracking code (128 random bits, shown once in the receipt): the code itself is
-- never stored, and a copy of the database opens no request's tracking page.
ALTER TABLE requests ADD COLUMN tracking_digest bytea CHECK (tracking_digest IS NULL OR length(tracking_digest) = 32);
ALTER TABLE requests ADD CONSTRAINT requests_online_tracked CHECK ((channel = 'online') = (tracking_digest IS NOT NULL));
CREATE INDEX requests_open_online ON requests (created_at) WHERE channel = 'online' AND state NOT IN ('rejected', 'archived');

-- What the public may spend, one budget for every instance: filings per client address and per
-- e-mail, tracking attempts per request number and per address, each in a fixed window.
-- Unlogged like address_budget: a budget lost in a crash starts full again, which is harmless.
CREATE UNLOGGED TABLE public_budget (
    scope        text NOT NULL CHECK (scope IN ('filing_address', 'filing_email', 'tracking_request', 'tracking_address')),
    key          text NOT NULL CHECK (length(key) <= 320),
    window_start timestamptz NOT NULL,
    spent        integer NOT NULL CHECK (spent >= 0),
    PRIMARY KEY (scope, key)
);
CREATE INDEX public_budget_window ON public_budget (window_start);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public_budget TO spse_service;
    END IF;
END
$$;
