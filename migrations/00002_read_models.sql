-- +goose Up

-- Read models, written only by the projectors of package projections and
-- rebuilt from the event store by `etctl rebuild`. Nothing here is a source of
-- truth: every row can be derived again from the events table. Tables have no
-- foreign keys between them so that a rebuild can swap each one on its own.

-- Employee directory (projection "directory").
CREATE TABLE employees (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    full_name     text NOT NULL,
    role          text NOT NULL,
    manager_id    uuid,
    position      text NOT NULL,
    hire_date     date,
    schedule      jsonb NOT NULL,
    active        boolean NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX employees_manager_idx ON employees (manager_id, id);
CREATE INDEX employees_role_idx ON employees (role) WHERE active;

-- One row per employee and local date with a check-in (projection "attendance").
-- Several sessions on one day add up: check_in is the first, check_out the last.
CREATE TABLE attendance_days (
    employee_id    uuid NOT NULL,
    date           date NOT NULL,
    check_in       timestamptz NOT NULL,
    check_out      timestamptz,
    worked_minutes int NOT NULL,
    late_minutes   int NOT NULL,
    workday        boolean NOT NULL,
    status         text NOT NULL CHECK (status IN ('open', 'late', 'present')),
    PRIMARY KEY (employee_id, date)
);
CREATE INDEX attendance_days_open_idx ON attendance_days (employee_id) WHERE status = 'open';

-- Leave requests, approved leave per charged workday, balances per year
-- (projection "leave"). Amounts are minutes of leave (480 to a day).
CREATE TABLE leave_requests (
    id          uuid PRIMARY KEY,
    employee_id uuid NOT NULL,
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    days        int NOT NULL,
    dates       date[] NOT NULL,
    amount      bigint NOT NULL,
    year        int NOT NULL,
    reason      text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL,
    decided_by  uuid,
    decided_at  timestamptz,
    note        text NOT NULL
);
CREATE INDEX leave_requests_employee_idx ON leave_requests (employee_id, id);
CREATE INDEX leave_requests_status_idx ON leave_requests (status, id);

CREATE TABLE leave_days (
    employee_id uuid NOT NULL,
    date        date NOT NULL,
    request_id  uuid NOT NULL,
    PRIMARY KEY (employee_id, date)
);

CREATE TABLE leave_balances (
    employee_id uuid NOT NULL,
    year        int NOT NULL,
    entitlement bigint NOT NULL,
    -- whether an entitlement was set or granted: a grant does not override
    -- an entitlement set before it
    entitlement_defined boolean NOT NULL,
    used        bigint NOT NULL,
    pending     bigint NOT NULL,
    PRIMARY KEY (employee_id, year)
);

-- The event-driven parts of the monthly report (projection "monthly_hours");
-- leave, holidays and absences come from their own tables at query time.
-- last_date is the latest local date counted in days_worked, so that a second
-- check-in on one day does not count the day twice.
CREATE TABLE monthly_hours (
    employee_id    uuid NOT NULL,
    year           int NOT NULL,
    month          int NOT NULL,
    days_worked    int NOT NULL,
    worked_minutes int NOT NULL,
    late_days      int NOT NULL,
    late_minutes   int NOT NULL,
    last_date      date,
    PRIMARY KEY (employee_id, year, month)
);

-- Company holidays (projection "holidays").
CREATE TABLE holidays (
    date date PRIMARY KEY,
    name text NOT NULL
);

-- Notification inboxes (projection "notifications"); seq is the version of
-- the notification.raised event in the recipient's notify-<id> stream.
CREATE TABLE notifications (
    id           uuid PRIMARY KEY,
    recipient_id uuid NOT NULL,
    seq          bigint NOT NULL,
    type         text NOT NULL,
    message      text NOT NULL,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    read         boolean NOT NULL,
    read_at      timestamptz,
    CONSTRAINT notifications_recipient_seq_key UNIQUE (recipient_id, seq)
);
CREATE INDEX notifications_unread_idx ON notifications (recipient_id, seq) WHERE NOT read;

-- Bookkeeping of the projectors and sagas.

-- The last version of each stream a projection (or saga) has handled: a
-- redelivered event is skipped, a missing one is fetched from the store.
CREATE TABLE projection_versions (
    projection text NOT NULL,
    stream_id  text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (projection, stream_id)
);

-- How far in the feed each consumer has handled each bus partition. The
-- relay re-publishes from the lowest of these when the bus lost its streams.
CREATE TABLE projection_checkpoints (
    projection text NOT NULL,
    partition  int NOT NULL,
    tx_id      xid8 NOT NULL,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, partition)
);

-- Messages a projection or saga could not handle (undecodable, or refused
-- by the database for a reason retrying cannot fix). They are kept for an
-- operator and reported; the partition moves on.
CREATE TABLE parked_messages (
    id         bigserial PRIMARY KEY,
    projection text NOT NULL,
    message_id text NOT NULL,
    stream_id  text,
    version    bigint,
    type       text,
    payload    bytea NOT NULL,
    error      text NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_messages_projection_idx ON parked_messages (projection);

-- Daily sweeps done, per employee and local date, so each day is swept once.
CREATE TABLE sweeps (
    employee_id uuid NOT NULL,
    local_date  date NOT NULL,
    swept_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employee_id, local_date)
);

-- +goose Down
DROP TABLE sweeps;
DROP TABLE parked_messages;
DROP TABLE projection_checkpoints;
DROP TABLE projection_versions;
DROP TABLE notifications;
DROP TABLE holidays;
DROP TABLE monthly_hours;
DROP TABLE leave_balances;
DROP TABLE leave_days;
DROP TABLE leave_requests;
DROP TABLE attendance_days;
DROP TABLE employees;
