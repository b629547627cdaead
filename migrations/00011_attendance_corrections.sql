-- +goose Up

-- Attendance corrections (docs/attendance.md), kept by the projection
-- "attendance" beside its days. Reasons and notes are free text about the
-- employee.
CREATE TABLE attendance_corrections (
    id           uuid PRIMARY KEY,
    employee_id  uuid NOT NULL,
    date         date NOT NULL,
    check_in     timestamptz,
    check_out    timestamptz,
    reason       text NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    decided_by   uuid,
    decided_at   timestamptz,
    note         text NOT NULL
);
CREATE INDEX attendance_corrections_employee_idx ON attendance_corrections (employee_id, id);

-- A day whose check-in or check-out an approved correction replaced.
ALTER TABLE attendance_days ADD COLUMN corrected boolean NOT NULL DEFAULT false;

-- Deciding a correction finds the employee's attendance stream from the
-- correction's id alone, straight from the event store, so a correction is
-- decidable the moment it is filed.
CREATE INDEX events_attendance_correction_idx ON events ((data->>'correction_id'))
    WHERE type = 'attendance.correction_requested';

-- +goose Down
DROP INDEX events_attendance_correction_idx;
ALTER TABLE attendance_days DROP COLUMN corrected;
DROP TABLE attendance_corrections;
