-- Fuzzy name lookup at a million accounts (issue 7, `spse-bench lookup`). Trigram similarity
-- over whole names finds every account sharing a common word ("Muhammad", "Sri") as a candidate
-- and scores each one: ~1.6 s p99. Instead each query word is matched against the vocabulary
-- of distinct name words (short strings, a few thousand to a hundred thousand of them), and the
-- accounts whose names hold a match for every word come from a GIN index on the name's words,
-- so the candidates are bounded by the rarest word.
--
-- Adding the stored column rewrites `accounts` (about 16 s at a million rows).

-- One splitting rule for the stored words and for the query's words, so that both agree.
CREATE FUNCTION name_words(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN array_remove(regexp_split_to_array(lower(name), '[[:space:].,;:()/''"-]+'), '');

ALTER TABLE accounts ADD COLUMN name_words text[] GENERATED ALWAYS AS (name_words(full_name)) STORED;
CREATE INDEX accounts_name_words ON accounts USING gin (name_words);

-- Words are only ever added: a word no account holds any more matches no account, and costs a row.
CREATE TABLE name_vocabulary (word text PRIMARY KEY);
INSERT INTO name_vocabulary SELECT DISTINCT unnest(name_words) FROM accounts ON CONFLICT DO NOTHING;
CREATE INDEX name_vocabulary_trgm ON name_vocabulary USING gin (word gin_trgm_ops);

-- Per statement, so a COPY of 10,000 provisioned accounts adds its words in one insert.
CREATE FUNCTION name_vocabulary_add_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_vocabulary SELECT DISTINCT unnest(name_words) FROM inserted_accounts ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_name_vocabulary_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS inserted_accounts FOR EACH STATEMENT EXECUTE FUNCTION name_vocabulary_add_inserted();

CREATE FUNCTION name_vocabulary_add_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_vocabulary SELECT unnest(NEW.name_words) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_name_vocabulary_rename AFTER UPDATE OF full_name ON accounts
    FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name) EXECUTE FUNCTION name_vocabulary_add_renamed();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT ON name_vocabulary TO spse_service;
    END IF;
END
$$;
