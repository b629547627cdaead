package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/migrations"
)

// The sagas' groups of one saga each become one group per category, which
// starts where the slowest of them stood, and going down gives each saga its
// group back from there.
func TestSagaGroupsStartWhereTheSlowestSagaStood(t *testing.T) {
	ctx := context.Background()
	pool := testdb.New(t)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithTableName(migrations.VersionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO projection_versions (projection, stream_id, version) VALUES
		('saga.notify_lateness_on_checked_in', 'attendance-a', 7),
		('saga.notify_missing_checkout_on_auto_checked_out', 'attendance-a', 5),
		('saga.notify_lateness_on_checked_in', 'attendance-b', 3),
		('saga.notify_employee_on_leave_decided', 'leave-a', 4),
		('saga.notify_low_balance_on_low_balance_reached', 'leave-a', 4),
		('attendance', 'attendance-a', 9)`)
	exec(`INSERT INTO projection_checkpoints (projection, partition, tx_id, position) VALUES
		('saga.notify_lateness_on_checked_in', 0, '100', 50),
		('saga.notify_missing_checkout_on_auto_checked_out', 0, '90', 70),
		('saga.notify_lateness_on_checked_in', 1, '120', 80),
		('saga.notify_employee_on_leave_decided', 0, '95', 60),
		('attendance', 0, '80', 10)`)
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}

	rows := func(sql string) map[string]bool {
		t.Helper()
		r, err := pool.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := map[string]bool{}
		for r.Next() {
			var s string
			if err := r.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got[s] = true
		}
		return got
	}
	versions := `SELECT projection || ' ' || stream_id || ' ' || version FROM projection_versions`
	checkpoints := `SELECT projection || ' ' || partition || ' ' || tx_id || '/' || position FROM projection_checkpoints`
	wantVersions := []string{"sagas.attendance attendance-a 5", "sagas.attendance attendance-b 3", "sagas.leave leave-a 4", "attendance attendance-a 9"}
	wantCheckpoints := []string{"sagas.attendance 0 90/70", "sagas.attendance 1 120/80", "sagas.leave 0 95/60", "attendance 0 80/10"}
	for _, c := range []struct {
		sql  string
		want []string
	}{{versions, wantVersions}, {checkpoints, wantCheckpoints}} {
		got := rows(c.sql)
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("after the migration: no %q in %v", w, got)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("after the migration: %v, want exactly %v", got, c.want)
		}
	}

	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	got := rows(versions)
	for _, w := range []string{"saga.notify_lateness_on_checked_in attendance-a 5", "saga.notify_employee_on_correction_decided attendance-b 3",
		"saga.notify_approver_on_approval_chased leave-a 4", "attendance attendance-a 9"} {
		if !got[w] {
			t.Errorf("after going down: no %q in %v", w, got)
		}
	}
	if got := rows(`SELECT projection FROM projection_versions WHERE projection LIKE 'sagas.%'`); len(got) != 0 {
		t.Errorf("after going down, the groups per category are left: %v", got)
	}
}
