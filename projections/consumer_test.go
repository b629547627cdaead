package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// One batch applies what follows each stream's last version, skips what was
// handled, and, when it meets a gap or an event the database refuses, leaves
// nothing half done: its events are then handled one by one, the gap filled
// from the store and the refused event parked.
func TestBatchSkipsDuplicatesFillsGapsAndParks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	s := schedule("Europe/Istanbul")
	monday := time.Date(2024, 12, 2, 5, 17, 0, 0, time.UTC)
	var emps []string
	var histories [][]eventstore.Event
	for range 3 {
		emp := uuid.NewString()
		e.checkIn(emp, s, monday)
		e.checkOut(emp, monday.Add(9*time.Hour))
		history, err := e.store.Load(context.Background(), attendance.Stream(emp))
		if err != nil {
			t.Fatal(err)
		}
		emps, histories = append(emps, emp), append(histories, history)
	}
	rt := &runtime{pool: e.pool, store: e.store, logger: pipelinetest.Logger(t), metrics: newMetrics(), marks: newCheckpointMarks(),
		decoded: newDecodedEvents(e.store.Codec())}
	models, err := selectModels([]string{readmodel.Attendance})
	if err != nil {
		t.Fatal(err)
	}
	model := &liveModel{Model: models[0], pool: e.pool}
	ctx := context.Background()
	version := func(stream string) int64 {
		rows, err := e.pool.Query(ctx, selectVersionsSQL, readmodel.Attendance, []string{stream})
		got := map[string]int64{}
		if err == nil {
			err = scanVersions(rows, got)
		}
		if err != nil {
			t.Fatal(err)
		}
		return got[stream]
	}

	// The first check-ins, one of them twice.
	a, b, c := histories[0], histories[1], histories[2]
	if err := model.handleBatch(ctx, []eventstore.Event{a[0], a[0], b[0]}); err != nil {
		t.Fatal(err)
	}
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE check_out IS NULL`); got != 2 {
		t.Fatalf("open days after the first batch: got %d, want 2", got)
	}

	// c's check-out arrives without its check-in: the batch refuses all of
	// it, and rt handles its events one by one.
	batch := []eventstore.Event{a[1], c[1], b[1]}
	var gap *gapError
	if err := model.handleBatch(ctx, batch); !errors.As(err, &gap) || gap.Stream != attendance.Stream(emps[2]) {
		t.Fatalf("batch with a gap: got %v, want a gap in %s", err, attendance.Stream(emps[2]))
	}
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE check_out IS NOT NULL`); got != 0 {
		t.Fatalf("closed days after a refused batch: got %d, want 0 (nothing half done)", got)
	}

	// A check-out of a day never checked in, which the fold refuses, in the
	// middle of a batch.
	poisoned := uuid.NewString()
	poison := eventstore.Event{ID: uuid.New(), StreamID: attendance.Stream(poisoned), Version: 1, Type: "attendance.checked_out",
		Payload: attendance.CheckedOut{EmployeeID: poisoned, At: monday, LocalDate: date("2024-12-02"), CheckedInAt: monday, WorkedMinutes: 60}}
	if err := rt.handleAll(ctx, model, []eventstore.Event{a[1], poison, c[1], b[1]}); err != nil {
		t.Fatal(err)
	}
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE check_out IS NOT NULL AND worked_minutes = 540`); got != 3 {
		t.Errorf("closed days: got %d, want 3", got)
	}
	if got := e.count(`SELECT count(*) FROM parked_messages WHERE projection = $1 AND stream_id = $2`, readmodel.Attendance, poison.StreamID); got != 1 {
		t.Errorf("parked: got %d, want 1", got)
	}
	want := map[string]int64{attendance.Stream(emps[0]): 2, attendance.Stream(emps[1]): 2, attendance.Stream(emps[2]): 2, poison.StreamID: 1}
	for stream, v := range want {
		if got := version(stream); got != v {
			t.Errorf("version of %s: got %d, want %d", stream, got, v)
		}
	}
}

func TestStreamsOfListsEachStreamOnceInTheOrderMet(t *testing.T) {
	events := []eventstore.Event{{StreamID: "attendance-b"}, {StreamID: "attendance-a"}, {StreamID: "attendance-b"}, {StreamID: "attendance-c"}, {StreamID: "attendance-a"}}
	got := streamsOf(events)
	want := []string{"attendance-b", "attendance-a", "attendance-c"}
	if !slices.Equal(got, want) {
		t.Fatalf("streamsOf = %v, want %v", got, want)
	}
}

// A full batch of a catch-up: 1,000 events of 500 streams.
func BenchmarkStreamsOf(b *testing.B) {
	streams := make([]string, 500)
	for i := range streams {
		streams[i] = attendance.Stream(uuid.NewString())
	}
	events := make([]eventstore.Event, 1000)
	for i := range events {
		events[i].StreamID = streams[i%len(streams)]
	}
	for b.Loop() {
		streamsOf(events)
	}
}

// countingConsumer counts the batches handed to the consumer it wraps.
type countingConsumer struct {
	consumer
	batches int
}

func (c *countingConsumer) handleBatch(ctx context.Context, events []eventstore.Event) error {
	c.batches++
	return c.consumer.handleBatch(ctx, events)
}

// A batch of thousands with one event the fold refuses is halved until the
// refused event is alone: a few dozen transactions, not one per event, and
// the others applied all the same.
func TestFailedBatchIsHalvedNotHandledOneByOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	ctx := context.Background()
	const n = 4000
	if err := backlog.Attendance(ctx, e.pool, n, n, calendar.Date{Year: 2024, Month: time.December, Day: 2}, "test"); err != nil {
		t.Fatal(err)
	}
	var events []eventstore.Event
	for i := range n {
		var stream string // backlog's id of employee i
		if err := e.pool.QueryRow(ctx, `SELECT 'attendance-' || md5($1::int::text)::uuid::text`, i).Scan(&stream); err != nil {
			t.Fatal(err)
		}
		history, err := e.store.Load(ctx, stream)
		if err != nil || len(history) != 1 {
			t.Fatalf("%s: %d events, %v", stream, len(history), err)
		}
		events = append(events, history...)
	}
	poisoned := uuid.NewString()
	at := time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)
	poison := eventstore.Event{ID: uuid.New(), StreamID: attendance.Stream(poisoned), Version: 1, Type: "attendance.checked_out",
		Payload: attendance.CheckedOut{EmployeeID: poisoned, At: at, LocalDate: date("2024-12-02"), CheckedInAt: at, WorkedMinutes: 60}}
	batch := slices.Insert(events, 2345, poison)

	models, err := selectModels([]string{readmodel.Attendance})
	if err != nil {
		t.Fatal(err)
	}
	model := &countingConsumer{consumer: &liveModel{Model: models[0], pool: e.pool}}
	rt := &runtime{pool: e.pool, store: e.store, logger: pipelinetest.Logger(t), metrics: newMetrics(), marks: newCheckpointMarks(),
		decoded: newDecodedEvents(e.store.Codec())}
	if err := rt.handleAll(ctx, model, batch); err != nil {
		t.Fatal(err)
	}
	if got := e.count(`SELECT count(*) FROM attendance_days`); got != n {
		t.Errorf("days: got %d, want %d", got, n)
	}
	if got := e.count(`SELECT count(*) FROM parked_messages WHERE stream_id = $1`, poison.StreamID); got != 1 {
		t.Errorf("parked: got %d, want 1", got)
	}
	// 1 + 2 a level for the 10 halvings to a part of under 8, and that part
	// one event at a time.
	if model.batches > 30 {
		t.Errorf("batches handled: %d, want at most 30 for %d events", model.batches, len(batch))
	}
}

// A batch reads its streams' version records one stream at a time through
// the primary key, however many records its projection holds and whether
// Postgres plans the statement for the streams asked or, as it does for a
// statement run often, once for any: a read of the projection's every record
// grew with the streams, for every batch.
func TestVersionsAreReadThroughTheKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	ctx := context.Background()
	const records, asked = 100_000, 50
	// Statistics taken while the table was small, as a store's first days
	// leave them until autovacuum comes.
	if _, err := e.pool.Exec(ctx, `INSERT INTO projection_versions (projection, stream_id, version)
		SELECT 'other', 'attendance-' || n, 1 FROM generate_series(1, 10) AS n`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `ANALYZE projection_versions`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `INSERT INTO projection_versions (projection, stream_id, version)
		SELECT $1, 'attendance-' || n, n FROM generate_series(1, $2::int) AS n`, readmodel.Attendance, records); err != nil {
		t.Fatal(err)
	}
	streams := make([]string, asked)
	for i := range streams {
		streams[i] = fmt.Sprintf("attendance-%d", (i+1)*records/asked)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, mode); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `PREPARE select_versions AS `+selectVersionsSQL); err != nil {
				return err
			}
			var plan []struct {
				Plan struct {
					Rows       int `json:"Actual Rows"`
					SharedHit  int `json:"Shared Hit Blocks"`
					SharedRead int `json:"Shared Read Blocks"`
				}
			}
			explain := fmt.Sprintf(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE select_versions('%s', '{%s}')`, readmodel.Attendance, strings.Join(streams, ","))
			if err := tx.QueryRow(ctx, explain).Scan(&plan); err != nil {
				return err
			}
			if plan[0].Plan.Rows != asked {
				t.Errorf("%s: read %d version records, want %d", mode, plan[0].Plan.Rows, asked)
			}
			if pages := plan[0].Plan.SharedHit + plan[0].Plan.SharedRead; pages > 5*asked {
				t.Errorf("%s: reading %d streams' versions among %d records read %d pages, want a few a stream", mode, asked, records, pages)
			}
			_, err := tx.Exec(ctx, `DEALLOCATE select_versions`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
