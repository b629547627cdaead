package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/projections/readmodel"
)

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	const staff = 6
	env := map[string]string{"DATABASE_URL": testdb.URL(t), "BCRYPT_COST": "4"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	args := []string{"seed-demo", "-employees", "6", "-months", "1", "-quiet"}

	var out bytes.Buffer
	if err := run(ctx, getenv, &out, args); err != nil {
		t.Fatalf("seed-demo = %v, want nil", err)
	}
	for _, login := range []string{"admin@demo.example.com", "manager01@demo.example.com", "employee001@demo.example.com"} {
		if !strings.Contains(out.String(), login) {
			t.Errorf("output lacks the login %s:\n%s", login, out.String())
		}
	}
	if err := run(ctx, getenv, &out, args); !errors.Is(err, ErrAlreadySeeded) {
		t.Errorf("second seed-demo = %v, want ErrAlreadySeeded", err)
	}

	db, store, _, err := openStore(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var c struct {
		admins, managers, employees, zones  int
		checkIns, checkOuts, late, absentee int
		autoCheckOuts, nightShifts          int
		requested, approved, rejected       int
		cancelled, leaveTypes, leaveBlocks  int
		corrections, corrected              int
		requestedTypes, adjustments         int
		policies, stepsApproved             int
		correctionSteps                     int
	}
	err = db.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE type = 'employee.registered' AND data->>'role' = 'admin'),
		count(*) FILTER (WHERE type = 'employee.registered' AND data->>'role' = 'manager'),
		count(*) FILTER (WHERE type = 'employee.registered' AND data->>'role' = 'employee'),
		count(DISTINCT data->'schedule'->>'timezone') FILTER (WHERE type = 'employee.registered' AND data->>'role' = 'employee'),
		count(*) FILTER (WHERE type = 'attendance.checked_in'),
		count(*) FILTER (WHERE type = 'attendance.checked_out'),
		count(*) FILTER (WHERE type = 'attendance.checked_in' AND (data->>'late')::boolean),
		(SELECT count(*) FROM (SELECT stream_id, count(*) FROM events WHERE type = 'attendance.checked_in' GROUP BY 1) s
		  WHERE count < (SELECT max(n) FROM (SELECT count(*) AS n FROM events WHERE type = 'attendance.checked_in' GROUP BY stream_id) m)),
		count(*) FILTER (WHERE type = 'leave.requested'),
		count(*) FILTER (WHERE type = 'leave.approved'),
		count(*) FILTER (WHERE type = 'leave.rejected'),
		count(*) FILTER (WHERE type = 'leave.cancelled'),
		count(*) FILTER (WHERE type = 'attendance.auto_checked_out'),
		count(*) FILTER (WHERE type = 'employee.registered' AND data->'schedule'->>'work_end' < data->'schedule'->>'work_start'),
		count(*) FILTER (WHERE type = 'leave_type.defined'),
		count(*) FILTER (WHERE type = 'leave_block.added'),
		count(*) FILTER (WHERE type = 'attendance.correction_requested'),
		count(*) FILTER (WHERE type = 'attendance.correction_approved' AND data->>'check_out' IS NOT NULL),
		count(DISTINCT coalesce(data->>'leave_type', 'annual')) FILTER (WHERE type = 'leave.requested'),
		count(*) FILTER (WHERE type = 'leave.adjusted'),
		count(*) FILTER (WHERE type = 'approval.policy_set'),
		count(*) FILTER (WHERE type = 'leave.approval_step_approved'),
		count(*) FILTER (WHERE type = 'attendance.correction_step_approved')
		FROM events`).Scan(&c.admins, &c.managers, &c.employees, &c.zones, &c.checkIns, &c.checkOuts, &c.late, &c.absentee,
		&c.requested, &c.approved, &c.rejected, &c.cancelled, &c.autoCheckOuts, &c.nightShifts, &c.leaveTypes, &c.leaveBlocks,
		&c.corrections, &c.corrected, &c.requestedTypes, &c.adjustments, &c.policies, &c.stepsApproved, &c.correctionSteps)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want int
		atLeast   bool
	}{
		{"admins", c.admins, 1, false},
		{"leave types of its own", c.leaveTypes, 2, false},
		{"blocked weeks", c.leaveBlocks, 1, false},
		{"managers, the director included", c.managers, 4, false},
		{"approval policies", c.policies, 1, false},
		// The request that travelled its chain and the one waiting at its
		// second step; a random one of three days of annual leave approved
		// travels it too.
		{"first steps approved", c.stepsApproved, 2, true},
		{"the correction's first step approved", c.correctionSteps, 1, false},
		{"employees", c.employees, staff, false},
		{"employees' timezones", c.zones, 3, false},
		{"night-shift team, manager included", c.nightShifts, 3, false},
		{"check-ins", c.checkIns, staff * 15, true},
		{"forgotten check-outs closed by the next check-in", c.autoCheckOuts, 1, false},
		{"check-outs", c.checkOuts + c.autoCheckOuts, c.checkIns, false},
		{"corrections filed", c.corrections, 1, false},
		{"the forgotten check-out corrected", c.corrected, 1, false},
		{"late check-ins", c.late, 1, true},
		{"employees with fewer check-ins than others (absence or leave)", c.absentee, 1, true},
		{"leave requests, two of them along a chain", c.requested, staff + 2, false},
		{"leave types requested", c.requestedTypes, 5, false}, // annual, sick, study, unpaid, compensatory
		{"adjustments", c.adjustments, 1, false},
		{"approvals", c.approved, 4, false}, // fates cycle approved, approved, rejected, cancelled, pending; one more of a chain
		{"rejections", c.rejected, 1, false},
		{"cancellations", c.cancelled, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.atLeast && tt.got < tt.want || !tt.atLeast && tt.got != tt.want {
				t.Errorf("got %d, want %s%d", tt.got, map[bool]string{true: "at least ", false: ""}[tt.atLeast], tt.want)
			}
		})
	}
	if pending := c.requested - c.approved - c.rejected - c.cancelled; pending < 1 {
		t.Errorf("pending requests = %d, want at least 1", pending)
	}

	// The veteran's study leave of last year carried over and lapsed
	// without an event: the ledger shows both.
	v := regexp.MustCompile(`hired on (\S+): GET /api/leave-balances/(\S+)/ledger/\?leave_type=study&year=(\d+)`).FindStringSubmatch(out.String())
	if v == nil {
		t.Fatalf("the veteran's ledger is missing from:\n%s", out.String())
	}
	hired, err := calendar.ParseDate(v[1])
	if err != nil {
		t.Fatal(err)
	}
	year, _ := strconv.Atoi(v[3])
	lines, _, err := query.NewLeaveBalanceHandler(store, leave.DefaultPolicy(), time.Now).Ledger(ctx, query.LeaveBalance{
		Employee: employee.Employee{EmployeeID: v[2], HireDate: hired}, Type: "study", Year: year - 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range lines {
		kinds = append(kinds, string(l.Kind))
	}
	if !slices.Contains(kinds, "carry_over") || !slices.Contains(kinds, "expiry") {
		t.Errorf("the veteran's ledger of study leave in %d = %v, want a carry-over and its lapse", year-1, kinds)
	}

	// What a user sees: the monthly reports of the history list the
	// employees and managers, not the admin, and show as absent exactly the
	// days the seeding left without a check-in or leave.
	m := regexp.MustCompile(`seeded \d+ employees, (\d+) managers, \d+ commands from (\S+) to (\S+) \(\d+ check-ins, \d+ late, (\d+) absences`).
		FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("summary line missing from:\n%s", out.String())
	}
	managers, _ := strconv.Atoi(m[1])
	absences, _ := strconv.Atoi(m[4])
	from, err := calendar.ParseDate(m[2])
	if err != nil {
		t.Fatal(err)
	}
	to, err := calendar.ParseDate(m[3])
	if err != nil {
		t.Fatal(err)
	}
	// The feed, and so a rebuild, reads below the oldest transaction running
	// anywhere on the server: wait until that is past the seeding's last one.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var visible bool
		if err := db.QueryRow(ctx, `SELECT max(tx_id) < pg_snapshot_xmin(pg_current_snapshot()) FROM events`).Scan(&visible); err != nil {
			t.Fatal(err)
		}
		if visible {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the seeded events are not all below the feed's fence after a minute")
		}
	}
	if err := run(ctx, getenv, io.Discard, []string{"rebuild"}); err != nil {
		t.Fatalf("rebuild = %v, want nil", err)
	}
	var waiting, travelled int
	if err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM leave_approvals WHERE awaited_step = 2),
		(SELECT count(*) FROM correction_approvals WHERE awaited_step IS NULL AND steps->1->>'status' = 'approved')`).Scan(&waiting, &travelled); err != nil {
		t.Fatal(err)
	}
	if waiting != 1 || travelled != 1 {
		t.Errorf("rebuilt chains: %d requests waiting at step 2 and %d corrections approved at both steps, want 1 and 1", waiting, travelled)
	}
	q := readmodel.NewQueries(db)
	absent := 0
	last := time.Date(to.Year, to.Month, 1, 0, 0, 0, 0, time.UTC)
	for month := time.Date(from.Year, from.Month, 1, 0, 0, 0, 0, time.UTC); !month.After(last); month = month.AddDate(0, 1, 0) {
		r, err := q.MonthlyWork(ctx, month.Year(), int(month.Month()), query.ReportFilter{}, to.AddDays(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Employees) != staff+managers {
			t.Errorf("report of %s lists %d people, want the %d employees and %d managers", month.Format("2006-01"), len(r.Employees), staff, managers)
		}
		for _, row := range r.Employees {
			if row.FullName == "Demo Administrator" {
				t.Errorf("report of %s lists the admin", month.Format("2006-01"))
			}
			absent += row.AbsentDays
		}
	}
	if absent != absences {
		t.Errorf("absent days in the reports = %d, want the %d absences the seeding made", absent, absences)
	}
}
