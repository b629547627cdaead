-- +goose Up

-- Forgotten check-outs (docs/attendance.md). needs_review marks a day whose
-- check-in the system closed; close_at is, for an open day, the moment its
-- open check-in would be closed at (the later of its shift's end and itself),
-- so that any instance finds the due ones with one indexed range read.
ALTER TABLE attendance_days
    ADD COLUMN needs_review boolean NOT NULL DEFAULT false,
    ADD COLUMN close_at timestamptz;
-- Days open now stay without: their check-ins were recorded without a
-- shift end, and the system never closes those.
CREATE INDEX attendance_days_close_at_idx ON attendance_days (close_at, (employee_id::text)) WHERE status = 'open';

-- +goose Down
-- A rebuild copies the tables with their indexes under new names.
DROP INDEX IF EXISTS attendance_days_close_at_idx;
ALTER TABLE attendance_days DROP COLUMN close_at, DROP COLUMN needs_review;
