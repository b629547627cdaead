-- +goose Up

-- A morning and an afternoon half day of one date are two requests: leave_days
-- holds a row per employee, date and approved request, so that cancelling one
-- leaves the other's day in place.
ALTER TABLE leave_days DROP CONSTRAINT leave_days_pkey;
ALTER TABLE leave_days ADD PRIMARY KEY (employee_id, date, request_id);

-- +goose Down
DELETE FROM leave_days d USING leave_days o
    WHERE d.employee_id = o.employee_id AND d.date = o.date AND d.request_id > o.request_id;
ALTER TABLE leave_days DROP CONSTRAINT leave_days_pkey;
ALTER TABLE leave_days ADD PRIMARY KEY (employee_id, date);
