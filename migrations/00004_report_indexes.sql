-- +goose Up

-- The monthly report reads one month of everyone's attendance and leave: a
-- range of dates, which the primary keys (employee first) do not serve.
CREATE INDEX attendance_days_date_idx ON attendance_days (date, employee_id);
CREATE INDEX leave_days_date_idx ON leave_days (date, employee_id);

-- +goose Down
-- A rebuild copies the tables with their indexes under new names.
DROP INDEX IF EXISTS leave_days_date_idx;
DROP INDEX IF EXISTS attendance_days_date_idx;
