-- +goose Up

-- An erasure is announced on the channel personal_keys_erased, with the
-- subject as payload, when it commits: every process's keyring listens and
-- forgets the key it cached at once (eventstore/keyring, docs/operations.md
-- "Personal data and its keys"). A row deleted by hand erases its subject as
-- well, and is announced alike.
-- +goose StatementBegin
CREATE FUNCTION personal_keys_announce_erasure() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('personal_keys_erased', OLD.subject);
    ELSIF NEW.wrapped IS NULL THEN
        PERFORM pg_notify('personal_keys_erased', NEW.subject);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER personal_keys_erased
    AFTER INSERT OR UPDATE OR DELETE ON personal_keys
    FOR EACH ROW EXECUTE FUNCTION personal_keys_announce_erasure();

-- A notification that names its decider (leave_decided, correction_decided)
-- keeps the decider's name sealed under the decider's own key: decided_by is
-- whose, so that their erasure clears the name from the read model.
ALTER TABLE notifications ADD COLUMN decided_by text NOT NULL DEFAULT '';
CREATE INDEX notifications_decided_by_idx ON notifications (decided_by) WHERE decided_by <> '';

-- +goose Down
DROP INDEX IF EXISTS notifications_decided_by_idx;
ALTER TABLE notifications DROP COLUMN decided_by;
DROP TRIGGER personal_keys_erased ON personal_keys;
DROP FUNCTION personal_keys_announce_erasure();
