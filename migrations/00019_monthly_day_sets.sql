-- +goose Up

-- The days of each employee's month as sets (bit d-1 for day d), kept by the
-- monthly_hours projection beside its sums: the days with a check-in, of
-- those the days whose forgotten check-out the system closed (until a
-- correction), and the days an approved correction changed. The monthly
-- report reads one row per employee instead of aggregating every day of the
-- month, which grew with the employees times the days.
ALTER TABLE monthly_hours
    ADD COLUMN attended  bigint NOT NULL DEFAULT 0,
    ADD COLUMN review    bigint NOT NULL DEFAULT 0,
    ADD COLUMN corrected bigint NOT NULL DEFAULT 0;

-- The months already kept, from the days the attendance projection holds.
UPDATE monthly_hours m
SET attended = d.attended, review = d.review, corrected = d.corrected
FROM (
    SELECT employee_id, extract(year FROM date)::int AS year, extract(month FROM date)::int AS month,
           bit_or(1::bigint << (extract(day FROM date)::int - 1)) AS attended,
           coalesce(bit_or(1::bigint << (extract(day FROM date)::int - 1)) FILTER (WHERE needs_review), 0) AS review,
           coalesce(bit_or(1::bigint << (extract(day FROM date)::int - 1)) FILTER (WHERE corrected), 0) AS corrected
    FROM attendance_days
    GROUP BY 1, 2, 3
) d
WHERE m.employee_id = d.employee_id AND m.year = d.year AND m.month = d.month;

-- +goose Down
ALTER TABLE monthly_hours DROP COLUMN attended, DROP COLUMN review, DROP COLUMN corrected;
