package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
)

// storedBeforeLeaveTypes is an employee's streams as the program stored them
// before leave types: annual leave only, in whole days, with an old approval
// that names no dates, an entitlement set by hand, a pending request, a
// lateness deduction and a cancelled approval.
var storedBeforeLeaveTypes = []struct{ stream, name, data string }{
	{"employee", "employee.registered", `{"employee_id":"%s","email":"old@example.com","full_name":"Old Hand","role":"employee","manager_id":"","position":"clerk","hire_date":"2023-03-15","schedule":{"timezone":"UTC","work_start":"08:00","work_end":"17:00","grace_minutes":0,"workdays":[1,2,3,4,5]}}`},
	{"leave", "leave.granted", `{"employee_id":"%s","year":2023,"amount":7200,"reason":"annual leave"}`},
	{"leave", "leave.requested", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0001","employee_id":"%s","start_date":"2023-06-05","end_date":"2023-06-07","days":3,"dates":["2023-06-05","2023-06-06","2023-06-07"],"amount":1440,"year":2023,"reason":"move","requested_at":"2023-05-02T08:00:00Z"}`},
	{"leave", "leave.approved", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0001","employee_id":"%s","year":2023,"amount":1440,"decided_by":"m1","note":"","decided_at":"2023-05-03T08:00:00Z"}`},
	{"leave", "leave.granted", `{"employee_id":"%s","year":2024,"amount":7200,"reason":"annual leave"}`},
	{"leave", "leave.entitlement_set", `{"employee_id":"%s","year":2024,"amount":9600,"previous":7200,"reason":"seniority","set_by":"m1"}`},
	{"leave", "leave.requested", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0002","employee_id":"%s","start_date":"2024-02-05","end_date":"2024-02-09","days":5,"dates":["2024-02-05","2024-02-06","2024-02-07","2024-02-08","2024-02-09"],"amount":2400,"year":2024,"reason":"","requested_at":"2024-01-10T08:00:00Z"}`},
	{"leave", "leave.approved", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0002","employee_id":"%s","year":2024,"amount":1920,"days":4,"dates":["2024-02-05","2024-02-06","2024-02-08","2024-02-09"],"decided_by":"m1","note":"","decided_at":"2024-01-11T08:00:00Z"}`},
	{"leave", "leave.requested", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0003","employee_id":"%s","start_date":"2024-12-16","end_date":"2024-12-16","days":1,"dates":["2024-12-16"],"amount":480,"year":2024,"reason":"","requested_at":"2024-11-10T08:00:00Z"}`},
	{"leave", "leave.lateness_deducted", `{"employee_id":"%s","year":2024,"date":"2024-04-02","late_minutes":45,"amount":45}`},
	{"leave", "leave.requested", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0004","employee_id":"%s","start_date":"2024-05-06","end_date":"2024-05-07","days":2,"dates":["2024-05-06","2024-05-07"],"amount":960,"year":2024,"reason":"","requested_at":"2024-04-10T08:00:00Z"}`},
	{"leave", "leave.approved", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0004","employee_id":"%s","year":2024,"amount":960,"days":2,"dates":["2024-05-06","2024-05-07"],"decided_by":"m1","note":"","decided_at":"2024-04-11T08:00:00Z"}`},
	{"leave", "leave.cancelled", `{"request_id":"6a4f7e0e-1b1d-4a51-9a55-0e9d3c1f0004","employee_id":"%s","year":2024,"amount":960,"previous_status":"approved","cancelled_by":"m1","cancelled_at":"2024-04-20T08:00:00Z"}`},
}

// TestStoreFromBeforeLeaveTypesKeepsItsBalances: events stored before leave
// types read as they were written and answer the balances they answered
// then (the figures of version 1, worked out by hand), and their ledgers add
// up to them.
func TestStoreFromBeforeLeaveTypesKeepsItsBalances(t *testing.T) {
	t.Parallel()
	a, store, _ := newApp(t)
	ctx := t.Context()
	codec, err := eventcodec.New()
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	for _, f := range storedBeforeLeaveTypes {
		data := strings.ReplaceAll(f.data, "%s", id)
		p, err := codec.Decode(f.name, 1, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		stream := leave.Stream(id)
		if f.stream == "employee" {
			stream = employee.Stream(id)
		}
		if _, err := store.Append(ctx, stream, eventstore.AnyVersion, eventstore.EventData{ID: uuid.New(), Payload: p}); err != nil {
			t.Fatal(err)
		}
		// What this program writes of an event of before is what was
		// written, before its personal fields are sealed: no field it did
		// not have.
		written, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(written, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s written again (-stored +written):\n%s", f.name, diff)
		}
	}
	e, err := a.Queries.Employee.Handle(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		year int
		want leave.Balance
	}{
		{2023, leave.Balance{Entitlement: 7200, Used: 1440, Remaining: 5760, Available: 5760, Accrued: 7200}},
		{2024, leave.Balance{Entitlement: 9600, Used: 1965, Pending: 480, Remaining: 7635, Available: 7155, Accrued: 9600}},
	} {
		q := query.LeaveBalance{Employee: e, Year: tt.year}
		lines, got, err := a.Queries.LeaveBalance.Ledger(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%d balance (-version 1 +now):\n%s", tt.year, diff)
		}
		var sum leave.Amount
		for _, l := range lines {
			sum += l.Amount
			if l.Position == 0 {
				t.Errorf("%d: line %+v names no event", tt.year, l)
			}
		}
		if sum != got.Remaining {
			t.Errorf("%d: ledger adds up to %d, remaining %d", tt.year, sum, got.Remaining)
		}
	}
}
