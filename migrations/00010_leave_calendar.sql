-- +goose Up

-- The team calendar (projection "leave_calendar"): one row per employee, day
-- and pending or approved request, with the requests it places so that a
-- decision or a cancellation finds their days. Rebuilt from the leave-<id>
-- streams like every read model; after an upgrade, the pipeline builds it
-- from the store at its first start, placing the leave filed before it.
CREATE TABLE leave_calendar_requests (
    id          uuid PRIMARY KEY,
    employee_id uuid NOT NULL,
    dates       date[] NOT NULL,
    leave_type  text NOT NULL,
    half_day    text NOT NULL,
    status      text NOT NULL
);

CREATE TABLE leave_calendar (
    employee_id uuid NOT NULL,
    date        date NOT NULL,
    request_id  uuid NOT NULL,
    leave_type  text NOT NULL,
    half_day    text NOT NULL,
    status      text NOT NULL,
    PRIMARY KEY (employee_id, date, request_id)
);
-- Everyone's days in date order, a page at a time; a team's are read by
-- employee through the primary key.
CREATE INDEX leave_calendar_date_idx ON leave_calendar (date, employee_id, request_id);

-- +goose Down
DROP TABLE leave_calendar;
DROP TABLE leave_calendar_requests;
