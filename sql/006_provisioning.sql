-- Provisioning batches (issue 6). One row per committed batch, written in the same transaction as
-- its accounts, so a re-run after a crash can tell whether a leftover credentials file belongs to a
-- batch that committed (its digest is here) or to one that never did.
CREATE TABLE provisioning_batches (
    id                 bigserial PRIMARY KEY,
    operator           text NOT NULL,
    file_sha256        text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    format             text NOT NULL CHECK (format IN ('csv', 'jsonl')),
    row_count          integer NOT NULL CHECK (row_count >= 0),
    created_count      integer NOT NULL CHECK (created_count >= 0),
    unchanged_count    integer NOT NULL CHECK (unchanged_count >= 0),
    credentials_sha256 text CHECK (credentials_sha256 ~ '^[0-9a-f]{64}$'),
    committed_at       timestamptz NOT NULL
);
CREATE INDEX provisioning_batches_credentials ON provisioning_batches (credentials_sha256) WHERE credentials_sha256 IS NOT NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT ON provisioning_batches TO spse_service;
        GRANT USAGE ON SEQUENCE provisioning_batches_id_seq TO spse_service;
    END IF;
END
$$;
