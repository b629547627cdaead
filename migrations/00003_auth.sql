-- +goose Up

-- Login credentials. Passwords never appear in events: the event store holds
-- who an employee is, this table holds how they prove it. The row is claimed
-- before the employee is registered, so the unique index on the lower-cased
-- email is what makes an email taken.
CREATE TABLE credentials (
    user_id         uuid PRIMARY KEY,
    email           text NOT NULL,
    password_hash   text NOT NULL,
    failed_logins   int NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX credentials_email_key ON credentials (lower(email));

-- Responses to POST requests that carried an Idempotency-Key, so a retry gets
-- the first answer back and appends nothing. status 0 marks a request still
-- being handled.
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        int NOT NULL DEFAULT 0,
    content_type  text NOT NULL DEFAULT '',
    body          bytea NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Deciding a leave request finds its leave account from the request id alone,
-- straight from the event store so a request is decidable the moment it exists.
CREATE INDEX events_leave_request_idx ON events ((data->>'request_id'))
    WHERE type = 'leave.requested';

-- +goose Down
DROP INDEX events_leave_request_idx;
DROP TABLE idempotency_keys;
DROP TABLE credentials;
