-- +goose Up

-- The keys that seal the personal fields of events (package eventstore/keyring,
-- docs/operations.md "Personal data and its keys"): one random AES-256 key per
-- person, wrapped by the data key (DATA_KEY). Erasing a person sets wrapped to
-- NULL: what was sealed under it no longer opens, in any event, read model or
-- backup taken afterwards.
CREATE TABLE personal_keys (
    subject     text PRIMARY KEY,
    wrapped     bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

-- A known text sealed by the data key: a program started with another
-- DATA_KEY refuses to start rather than fail on every read.
CREATE TABLE data_key (
    id           int PRIMARY KEY CHECK (id = 1),
    check_value  bytea NOT NULL
);

-- The data key a server generated because DATA_KEY was unset. Whoever holds a
-- copy of the database then holds the key: set DATA_KEY and rotate
-- (etctl rotate-data-key), which deletes this row.
CREATE TABLE data_key_generated (
    id   int PRIMARY KEY CHECK (id = 1),
    key  bytea NOT NULL
);

-- Read models show an erased person's personal fields as null: erased marks
-- the rows whose text was cleared. A notification's subject is the person it
-- is about (its data and message name them), who may not be its recipient.
ALTER TABLE employees ADD COLUMN erased boolean NOT NULL DEFAULT false;
ALTER TABLE leave_requests ADD COLUMN erased boolean NOT NULL DEFAULT false;
ALTER TABLE notifications
    ADD COLUMN erased boolean NOT NULL DEFAULT false,
    ADD COLUMN subject_id text NOT NULL DEFAULT '';
CREATE INDEX notifications_subject_idx ON notifications (subject_id);

-- +goose Down
DROP INDEX IF EXISTS notifications_subject_idx;
ALTER TABLE notifications DROP COLUMN subject_id, DROP COLUMN erased;
ALTER TABLE leave_requests DROP COLUMN erased;
ALTER TABLE employees DROP COLUMN erased;
DROP TABLE data_key_generated;
DROP TABLE data_key;
DROP TABLE personal_keys;
