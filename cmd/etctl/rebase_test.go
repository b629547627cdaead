package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// TestRebaseXIDs restores, in effect, a database whose transaction ids are
// ahead of its cluster's, as after pg_dump into a fresh cluster: the feed
// shows nothing until rebase-xids, then everything, and the relay's
// checkpoint still lets through exactly what it had not handled plus what is
// appended next.
func TestRebaseXIDs(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	pool, store, _, err := openStore(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	declare := func(day int) {
		t.Helper()
		d := calendar.Date{Year: 2026, Month: 1, Day: day}
		_, err := store.Update(ctx, holiday.Stream(holiday.Default, 2026), func([]eventstore.Event) ([]eventstore.EventData, error) {
			return []eventstore.EventData{{ID: uuid.New(), Payload: holiday.Declared{Date: d, Name: "day"}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	feed := func(after eventstore.Cursor) ([]eventstore.Event, []int64) {
		t.Helper()
		events, _, err := store.ReadFeed(ctx, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		var versions []int64
		for _, e := range events {
			versions = append(versions, e.Version)
		}
		return events, versions
	}
	// The fence is cluster-wide: a transaction of another test holds back
	// events with newer ids for a moment.
	waitFeed := func(after eventstore.Cursor, want []int64) []eventstore.Event {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			events, got := feed(after)
			if cmp.Equal(want, got) {
				return events
			}
			if time.Now().After(deadline) {
				t.Fatalf("feed after %v = versions %v, want %v", after, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for day := 1; day <= 3; day++ {
		declare(day)
	}
	events := waitFeed(eventstore.Cursor{}, []int64{1, 2, 3})
	if err := store.SaveCheckpoint(ctx, pool, "relay", events[1].Cursor()); err != nil {
		t.Fatal(err)
	}
	// The restore: the same rows, with ids from a cluster a billion transactions ahead.
	for _, sql := range []string{
		`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`,
		`UPDATE events SET tx_id = (tx_id::text::bigint + 1000000000)::text::xid8`,
		`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`,
		`UPDATE checkpoints SET tx_id = (tx_id::text::bigint + 1000000000)::text::xid8`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, got := feed(eventstore.Cursor{}); len(got) != 0 {
		t.Fatalf("feed of the restored database = %v, want nothing (the fence hides ids ahead of the cluster)", got)
	}

	var out bytes.Buffer
	if err := run(ctx, getenv, &out, []string{"rebase-xids"}); err != nil {
		t.Fatalf("rebase-xids = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "rebased 3 events and 1 checkpoints") {
		t.Errorf("output = %q, want 3 events and 1 checkpoint rebased", out.String())
	}
	// Rebased ids are below any fence: no waiting.
	if _, got := feed(eventstore.Cursor{}); !cmp.Equal([]int64{1, 2, 3}, got) {
		t.Errorf("feed after rebase = versions %v, want [1 2 3]", got)
	}
	relay, err := store.LoadCheckpoint(ctx, "relay")
	if err != nil {
		t.Fatal(err)
	}
	declare(4)
	waitFeed(relay, []int64{3, 4})

	out.Reset()
	if err := run(ctx, getenv, &out, []string{"rebase-xids"}); err != nil || !strings.Contains(out.String(), "nothing to rebase") {
		t.Errorf("second rebase-xids = %q, %v, want nothing to rebase", out.String(), err)
	}
	if _, err := pool.Exec(ctx, `UPDATE events SET tx_id = tx_id`); err == nil {
		t.Error("update of events after rebase = nil, want the immutability trigger's refusal")
	}
}
