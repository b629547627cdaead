-- +goose Up

-- An erased employee's corrections keep their times and decisions; their
-- reason and note, written about them, are cleared and marked (as
-- leave_requests.erased).
ALTER TABLE attendance_corrections ADD COLUMN erased boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE attendance_corrections DROP COLUMN erased;
