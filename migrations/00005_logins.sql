-- +goose Up

-- A session is one login and the chain of refresh tokens that follows it.
-- Tokens name their session; only the latest refresh token of a live session
-- buys a new pair, and presenting an earlier one ends the session. Every
-- server reads this table, so ending a session ends it everywhere.
CREATE TABLE sessions (
    session_id    uuid PRIMARY KEY,
    user_id       uuid NOT NULL,
    refresh_id    uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    end_reason    text
);

CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;
-- Each server looks for sessions ended since it last looked, to close their WebSockets.
CREATE INDEX sessions_ended_idx ON sessions (ended_at) WHERE ended_at IS NOT NULL;

-- Failed logins per client address ('address:...') and per account (the
-- SHA-256 of the lower-cased email, whether or not an account has it, so that
-- unknown and known emails are throttled alike), and the attempts of each
-- whose password is being compared (pending, as of pending_at).
CREATE TABLE login_failures (
    key         text PRIMARY KEY,
    failures    int NOT NULL,
    last_at     timestamptz NOT NULL,
    pending     int NOT NULL,
    pending_at  timestamptz NOT NULL
);

CREATE INDEX login_failures_last_idx ON login_failures (last_at);

-- Addresses that logged in to an account: an account locked against
-- strangers still admits them.
CREATE TABLE login_trusted_addresses (
    account        text NOT NULL,
    address        text NOT NULL,
    last_login_at  timestamptz NOT NULL,
    PRIMARY KEY (account, address)
);

CREATE INDEX login_trusted_addresses_last_idx ON login_trusted_addresses (last_login_at);

-- credentials.failed_logins and locked_until (a lock by an account's failures
-- alone) are no longer read. They stay while servers of the previous version
-- may still run during a rolling update, which read them.

-- +goose Down
DROP TABLE login_trusted_addresses;
DROP TABLE login_failures;
DROP TABLE sessions;
