// Package backlog writes a backlog of events straight into the store, fast,
// as the relay and the consumers find one after an outage: what the pipeline's
// tests and benchmarks work off.
package backlog

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
)

// attendanceSQL appends $1 events over $2 employees' attendance streams,
// alternating check-ins and check-outs one day after another from $3, with the
// actor $4, in one statement.
const attendanceSQL = `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
SELECT gen_random_uuid(), 'attendance-' || emp, v,
       CASE WHEN v % 2 = 1 THEN 'attendance.checked_in' ELSE 'attendance.checked_out' END, 1,
       CASE WHEN v % 2 = 1
         THEN jsonb_build_object('employee_id', emp, 'at', to_char(day + time '08:00', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
              'local_date', to_char(day, 'YYYY-MM-DD'), 'timezone', 'UTC', 'workday', true, 'late', false, 'late_minutes', 0)
         ELSE jsonb_build_object('employee_id', emp, 'at', to_char(day + time '17:00', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
              'local_date', to_char(day, 'YYYY-MM-DD'), 'checked_in_at', to_char(day + time '08:00', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
              'worked_minutes', 540)
       END,
       jsonb_build_object('actor', $4::text)
FROM (SELECT md5((i % $2)::text)::uuid::text AS emp, i / $2 + 1 AS v, $3::date + ((i / $2) / 2)::int AS day
      FROM generate_series(0, $1 - 1) AS i) s`

// Attendance appends n check-ins and check-outs of employees (ids derived
// from their number) to the store, one day after another from firstDay,
// recorded as done by actor.
func Attendance(ctx context.Context, db eventstore.Execer, n, employees int, firstDay calendar.Date, actor string) error {
	if _, err := db.Exec(ctx, attendanceSQL, n, employees, firstDay.String(), actor); err != nil {
		return fmt.Errorf("backlog: attendance: %w", err)
	}
	return nil
}
