-- Extensions the account store relies on: pg_trgm for typo-tolerant name lookup.
-- pg_trgm is a trusted extension, so the database owner may create it without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
