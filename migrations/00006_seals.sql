-- +goose Up

-- The audit chain (package eventstore/seal, docs/audit.md). A seal holds the
-- events of the feed after (after_tx_id, after_position) up to and including
-- (through_tx_id, through_position): positions interleave across
-- transactions, so the feed cursors, not the positions, say which events a
-- seal holds; from_position and to_position are only their lowest and
-- highest. positions and leaves (32 bytes of SHA-256 each) list the events
-- and their hashes in feed order, so that verify names the first event that
-- no longer matches. seq as the key refuses two seals of one place in the chain.
CREATE TABLE seals (
    seq              bigint PRIMARY KEY CHECK (seq > 0),
    after_tx_id      xid8 NOT NULL,
    after_position   bigint NOT NULL,
    through_tx_id    xid8 NOT NULL,
    through_position bigint NOT NULL,
    from_position    bigint NOT NULL,
    to_position      bigint NOT NULL,
    count            int NOT NULL CHECK (count > 0),
    root             bytea NOT NULL,
    prev_hash        bytea NOT NULL,
    hash             bytea NOT NULL,
    positions        bigint[] NOT NULL,
    leaves           bytea NOT NULL,
    sealed_at        timestamptz NOT NULL
);

-- An event's proof finds its seal by the event's feed cursor.
CREATE UNIQUE INDEX seals_through_idx ON seals (through_tx_id, through_position);

-- Seals are append-only, like the events they seal.
CREATE TRIGGER seals_refuse_update_delete
    BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER seals_refuse_truncate
    BEFORE TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- +goose Down
DROP TABLE seals;
