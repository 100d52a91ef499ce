-- Fuzzy name lookup at a million accounts (issue 7, `spse-bench lookup`). Trigram similarity
-- of the whole text to every name made each account sharing a common word ("Muhammad", "Sri") a
-- candidate to fetch and score: ~1.6 s p99. Instead:
--   1. each query word is matched against the vocabulary of distinct name words (short strings);
--   2. the distinct names holding a match for every word come from a GIN index on their words,
--      and each is scored once, however many accounts share it;
--   3. accounts are read for the best names only, through an index on (full_name, user_id).

-- One splitting rule for the stored words and for the query's words, so that both agree.
CREATE FUNCTION name_words(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN array_remove(regexp_split_to_array(lower(name), '[[:space:].,;:()/''"-]+'), '');

-- Both tables only grow: a name or word no account holds any more finds no account, and costs a row.
CREATE TABLE name_vocabulary (word text PRIMARY KEY);
CREATE INDEX name_vocabulary_trgm ON name_vocabulary USING gin (word gin_trgm_ops);

CREATE TABLE account_names (
    full_name  text PRIMARY KEY,
    name_words text[] NOT NULL
);
CREATE INDEX account_names_words ON account_names USING gin (name_words);
CREATE INDEX accounts_full_name_user_id ON accounts (full_name, user_id);

INSERT INTO account_names SELECT DISTINCT full_name, name_words(full_name) FROM accounts;
INSERT INTO name_vocabulary SELECT DISTINCT unnest(name_words) FROM account_names;

CREATE FUNCTION account_names_add(names text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO account_names SELECT DISTINCT n, name_words(n) FROM unnest(names) AS n ON CONFLICT DO NOTHING;
    INSERT INTO name_vocabulary SELECT DISTINCT unnest(name_words(n)) FROM unnest(names) AS n ON CONFLICT DO NOTHING;
$$;

-- Per statement, so a COPY of 10,000 provisioned accounts adds its names in two inserts.
CREATE FUNCTION account_names_add_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_names_add(ARRAY(SELECT DISTINCT full_name FROM inserted_accounts));
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_names_insert AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS inserted_accounts FOR EACH STATEMENT EXECUTE FUNCTION account_names_add_inserted();

CREATE FUNCTION account_names_add_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM account_names_add(ARRAY[NEW.full_name]);
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_names_rename AFTER UPDATE OF full_name ON accounts
    FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name) EXECUTE FUNCTION account_names_add_renamed();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spse_service') THEN
        GRANT SELECT, INSERT ON name_vocabulary, account_names TO spse_service;
    END IF;
END
$$;
