-- +goose Up

-- Leave requests of every type (docs/events.md: leave.requested's leave_type,
-- half_day and hours). The requests stored before are annual leave in whole
-- days, which the defaults say.
ALTER TABLE leave_requests
    ADD COLUMN leave_type text NOT NULL DEFAULT 'annual',
    ADD COLUMN half_day   text NOT NULL DEFAULT '',
    ADD COLUMN hours      double precision NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE leave_requests DROP COLUMN hours, DROP COLUMN half_day, DROP COLUMN leave_type;
