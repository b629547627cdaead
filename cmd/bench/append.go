package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
)

// writers is the number of concurrent writers in scenarios (a) and (c).
const writers = 16

// benchEvent is shaped and sized like a check-in.
type benchEvent struct {
	EmployeeID  string    `json:"employee_id"`
	At          time.Time `json:"at"`
	LocalDate   string    `json:"local_date"`
	Late        bool      `json:"late"`
	LateMinutes int       `json:"late_minutes"`
}

func (benchEvent) EventName() string { return "attendance.checked_in" }

func sampleEvent() (eventstore.EventData, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return eventstore.EventData{}, err
	}
	now := time.Now().UTC()
	return eventstore.EventData{
		ID: id,
		Payload: benchEvent{
			EmployeeID: "0b6c3f52-9a43-4d8e-8f5e-0f6a1c2d3e4f", At: now,
			LocalDate: now.Format(time.DateOnly), Late: true, LateMinutes: 7,
		},
		Metadata: eventstore.Metadata{
			Actor: "0b6c3f52-9a43-4d8e-8f5e-0f6a1c2d3e4f", RequestID: "req-" + id.String()[:8],
			CorrelationID: id.String(),
		},
	}, nil
}

// baselineDDL creates a table with the columns, constraints and indexes of
// events, but none of the store's logic.
const baselineDDL = `
DROP TABLE IF EXISTS bench_baseline;
CREATE TABLE bench_baseline (
    position       bigserial PRIMARY KEY,
    tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid NOT NULL UNIQUE,
    stream_id      text COLLATE "C" NOT NULL,
    version        bigint NOT NULL,
    type           text NOT NULL,
    schema_version int NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);
CREATE INDEX ON bench_baseline (tx_id, position);
CREATE INDEX ON bench_baseline (type, tx_id, position);`

type bench struct {
	cfg      config
	pool     *pgxpool.Pool
	store    *eventstore.Store
	redisURL string // the bus of the server that http runs
	log      io.Writer
}

type appendScenario struct {
	key, name string
	workers   int
	batch     int
	target    func(store, baseline stats) string
}

func (b *bench) appendScenarios(ctx context.Context) ([]row, error) {
	ratioTarget := func(min float64) func(store, baseline stats) string {
		return func(store, baseline stats) string {
			return verdict(fmt.Sprintf(">= %.1fx baseline", min), store.rate() >= min*baseline.rate())
		}
	}
	scenarios := []appendScenario{
		{key: "a", name: "(a) 16 writers, own streams, 1 event/commit", workers: writers, batch: 1, target: ratioTarget(0.8)},
		{key: "b", name: "(b) 1 writer, 1 stream, 1 event/commit", workers: 1, batch: 1, target: ratioTarget(0.7)},
		{key: "c", name: "(c) 16 writers, 10 events/commit", workers: writers, batch: 10, target: func(store, _ stats) string {
			return verdict(">= 25000 events/s", store.rate() >= 25000)
		}},
	}
	var rows []row
	for _, sc := range scenarios {
		fmt.Fprintf(b.log, "%s...\n", sc.name)
		st, base, err := compare(ctx, sc.workers, b.cfg.duration, b.storeOp(sc), b.baselineOp(sc))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		rows = append(rows,
			row{scenario: sc.name, path: "store", stats: st, ratio: fmt.Sprintf("%.2fx", st.rate()/base.rate()), target: sc.target(st, base)},
			row{scenario: "", path: "baseline", stats: base},
		)
	}
	return rows, nil
}

// storeOp appends a batch to the worker's stream at its known version.
func (b *bench) storeOp(sc appendScenario) op {
	versions := make([]int64, sc.workers)
	return func(ctx context.Context, w int) (int, error) {
		events := make([]eventstore.EventData, sc.batch)
		for i := range events {
			var err error
			if events[i], err = sampleEvent(); err != nil {
				return 0, err
			}
		}
		res, err := b.store.Append(ctx, fmt.Sprintf("bench-%s-%d", sc.key, w), versions[w], events...)
		if err != nil {
			return 0, err
		}
		versions[w] = res.LastVersion
		return len(events), nil
	}
}

// baselineOp writes the same rows with one plain INSERT statement.
func (b *bench) baselineOp(sc appendScenario) op {
	const insertOne = `INSERT INTO bench_baseline (event_id, stream_id, version, type, schema_version, data, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	const insertMany = `INSERT INTO bench_baseline (event_id, stream_id, version, type, schema_version, data, metadata)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])`
	versions := make([]int64, sc.workers)
	return func(ctx context.Context, w int) (int, error) {
		stream := fmt.Sprintf("bench-%s-%d", sc.key, w)
		ids := make([][16]byte, sc.batch) // the encoding the store uses
		streams := make([]string, sc.batch)
		vs := make([]int64, sc.batch)
		types := make([]string, sc.batch)
		schemas := make([]int32, sc.batch)
		data := make([][]byte, sc.batch)
		metadata := make([][]byte, sc.batch)
		for i := range sc.batch {
			e, err := sampleEvent()
			if err != nil {
				return 0, err
			}
			if data[i], err = json.Marshal(e.Payload); err != nil {
				return 0, err
			}
			if metadata[i], err = json.Marshal(e.Metadata); err != nil {
				return 0, err
			}
			ids[i], streams[i], vs[i], types[i], schemas[i] = e.ID, stream, versions[w]+int64(i)+1, e.Payload.EventName(), 1
		}
		var err error
		if sc.batch == 1 {
			_, err = b.pool.Exec(ctx, insertOne, ids[0], stream, vs[0], types[0], schemas[0], data[0], metadata[0])
		} else {
			_, err = b.pool.Exec(ctx, insertMany, ids, streams, vs, types, schemas, data, metadata)
		}
		if err != nil {
			return 0, err
		}
		versions[w] += int64(sc.batch)
		return sc.batch, nil
	}
}
