package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/migrations"
)

// A database of before the monthly day sets keeps its reports: the upgrade
// fills each month's sets from the days the attendance projection holds.
func TestMonthlyDaySetsFilledFromAttendanceDays(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.MissingURL(t)
	if err := migrations.EnsureDatabase(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	pool := openPool(t, dbURL)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithTableName(migrations.VersionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 18); err != nil {
		t.Fatal(err)
	}
	const ada, bora = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	for _, sql := range []string{
		`INSERT INTO monthly_hours (employee_id, year, month, days_worked, worked_minutes, late_days, late_minutes)
			VALUES ('` + ada + `', 2024, 1, 1, 480, 0, 0), ('` + ada + `', 2024, 2, 3, 1440, 0, 0), ('` + bora + `', 2024, 2, 0, 0, 0, 0)`,
		`INSERT INTO attendance_days (employee_id, date, check_in, worked_minutes, late_minutes, workday, status, needs_review, corrected)
			SELECT '` + ada + `', d::date, d, 480, 0, true, 'present', d::date = '2024-02-29', d::date = '2024-02-01'
			FROM unnest('{2024-01-31, 2024-02-01, 2024-02-02, 2024-02-29}'::timestamptz[]) AS d`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	want := map[[2]any][3]int64{
		{ada, 1}:  {1 << 30, 0, 0},
		{ada, 2}:  {1<<0 | 1<<1 | 1<<28, 1 << 28, 1 << 0},
		{bora, 2}: {0, 0, 0},
	}
	for k, w := range want {
		var got [3]int64
		if err := pool.QueryRow(ctx, `SELECT attended, review, corrected FROM monthly_hours WHERE employee_id = $1 AND year = 2024 AND month = $2`,
			k[0], k[1]).Scan(&got[0], &got[1], &got[2]); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("%s, month %d: got attended, review, corrected %b, want %b", k[0], k[1], got, w)
		}
	}
}
