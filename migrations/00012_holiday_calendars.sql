-- +goose Up

-- Holiday calendars per place (docs/holidays.md). The calendars themselves
-- live in the event store only; the read models learn which calendar each
-- holiday and each employee keeps. Rows of before: the default calendar.
ALTER TABLE employees ADD COLUMN holiday_calendar text NOT NULL DEFAULT 'default';
ALTER TABLE holidays ADD COLUMN calendar text NOT NULL DEFAULT 'default';

-- One holiday per calendar and date. A rebuild copies the table under a new
-- name, and its primary key with it, so the key is found by what it is.
-- +goose StatementBegin
DO $$
DECLARE pk text;
BEGIN
    SELECT conname INTO pk FROM pg_constraint WHERE conrelid = 'holidays'::regclass AND contype = 'p';
    EXECUTE format('ALTER TABLE holidays DROP CONSTRAINT %I', pk);
END $$;
-- +goose StatementEnd
ALTER TABLE holidays ADD PRIMARY KEY (calendar, date);

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE pk text;
BEGIN
    SELECT conname INTO pk FROM pg_constraint WHERE conrelid = 'holidays'::regclass AND contype = 'p';
    EXECUTE format('ALTER TABLE holidays DROP CONSTRAINT %I', pk);
END $$;
-- +goose StatementEnd
DELETE FROM holidays WHERE calendar <> 'default';
ALTER TABLE holidays DROP COLUMN calendar, ADD PRIMARY KEY (date);
ALTER TABLE employees DROP COLUMN holiday_calendar;
