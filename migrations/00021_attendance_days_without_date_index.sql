-- +goose Up

-- The monthly report reads each employee's month from monthly_hours (its
-- sums and day sets, 00019), no longer a range of dates of attendance_days.
-- Nothing reads that table by date across employees any more, while every
-- check-in and check-out still wrote an entry into this index.
DROP INDEX IF EXISTS attendance_days_date_idx;

-- +goose Down
CREATE INDEX attendance_days_date_idx ON attendance_days (date, employee_id);
