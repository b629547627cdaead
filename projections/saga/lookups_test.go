package saga

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// The reactions to one batch read a person and the admins once; the next
// batch, and a reaction outside any, read them again.
func TestABatchReadsEachPersonAndTheAdminsOnce(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	store := pipelinetest.Store(t, pool)
	n := &notifier{store: store, queries: readmodel.NewQueries(pool)}
	id, manager, next := uuid.NewString(), uuid.NewString(), uuid.NewString()
	appendTo := func(p eventstore.Payload) {
		t.Helper()
		if _, err := store.Append(ctx, employee.Stream(id), eventstore.AnyVersion, eventstore.EventData{ID: uuid.New(), Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	appendTo(employee.Registered{EmployeeID: id, Email: "ayse@example.com", FullName: "Ayşe Yılmaz", Role: employee.RoleEmployee, ManagerID: manager})

	batch := RememberLookups(ctx)
	read := func(ctx context.Context) (string, []string) {
		t.Helper()
		p, err := n.person(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		admins, err := n.admins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p.ManagerID, admins
	}
	if m, admins := read(batch); m != manager || len(admins) != 0 {
		t.Fatalf("first read: manager %s, admins %v; want %s and none", m, admins, manager)
	}
	// Meanwhile the manager changes and an admin joins.
	appendTo(employee.ManagerChanged{EmployeeID: id, ManagerID: next, PreviousManagerID: manager})
	admin := uuid.NewString()
	if _, err := pool.Exec(ctx, `INSERT INTO employees (id, email, full_name, role, position, schedule, active, registered_at)
		VALUES ($1, '', '', 'admin', '', '{}', true, now())`, admin); err != nil {
		t.Fatal(err)
	}
	if m, admins := read(batch); m != manager || len(admins) != 0 {
		t.Errorf("again in the batch: manager %s, admins %v; want what the batch read first (%s, none)", m, admins, manager)
	}
	for name, ctx := range map[string]context.Context{"the next batch": RememberLookups(ctx), "no batch": ctx} {
		if m, admins := read(ctx); m != next || !slices.Equal(admins, []string{admin}) {
			t.Errorf("%s: manager %s, admins %v; want %s and %s", name, m, admins, next, admin)
		}
	}
	// What a reaction does with its admins stays its own.
	later := RememberLookups(ctx)
	_, admins := read(later)
	admins[0] = "someone else"
	if _, again := read(later); !slices.Equal(again, []string{admin}) {
		t.Errorf("admins after a caller changed its copy: %v, want %s", again, admin)
	}
}
