package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// TestRotateDataKey: a store started without DATA_KEY moves to one, then to
// another; its events read the same under each, and the data key it left no
// longer opens it.
func TestRotateDataKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{"DATABASE_URL": testdb.URL(t)}
	getenv := func(k string) string { return env[k] }
	pool, store, _, err := openStore(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	id := uuid.NewString()
	registered := employee.Registered{EmployeeID: id, Email: "rotate@example.com", FullName: "Ayşe Döndü", Role: employee.RoleEmployee}
	if _, err := store.Append(ctx, employee.Stream(id), eventstore.NoStream, eventstore.EventData{ID: uuid.New(), Payload: registered}); err != nil {
		t.Fatal(err)
	}
	readsBack := func(how string) {
		t.Helper()
		pool, store, _, err := openStore(ctx, getenv)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		defer pool.Close()
		events, err := store.Load(ctx, employee.Stream(id))
		if err != nil || len(events) != 1 || events[0].Payload.(employee.Registered).FullName != "Ayşe Döndü" {
			t.Fatalf("%s: %v, %v", how, events, err)
		}
	}

	var out bytes.Buffer
	if err := run(ctx, getenv, &out, []string{"rotate-data-key"}); err == nil {
		t.Fatal("rotated without NEW_DATA_KEY")
	}
	first, second := newDataKey(), newDataKey()
	env["NEW_DATA_KEY"] = first
	if err := run(ctx, getenv, &out, []string{"rotate-data-key"}); err != nil || !strings.Contains(out.String(), "wrapped 1 keys") {
		t.Fatalf("from the stored data key: %v, %q", err, out.String())
	}
	delete(env, "NEW_DATA_KEY")
	if _, _, _, err := openStore(ctx, getenv); err == nil {
		t.Error("without DATA_KEY after the rotation: opened; want refused (the stored key is gone)")
	}
	env["DATA_KEY"] = first
	readsBack("under the first DATA_KEY")

	env["NEW_DATA_KEY"] = second
	if err := run(ctx, getenv, &out, []string{"rotate-data-key"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := openStore(ctx, getenv); err == nil {
		t.Error("the old DATA_KEY still opens the store")
	}
	env["DATA_KEY"] = second
	readsBack("under the second DATA_KEY")
}

func newDataKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}
