package eventstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/migrations"
)

// LeaveApproved is a domain event; its wire name is independent of the Go name.
type LeaveApproved struct {
	RequestID string  `json:"request_id"`
	Days      float64 `json:"days"`
	Note      string  `json:"note,omitempty"`
}

func (LeaveApproved) EventName() string  { return "leave.approved" }
func (LeaveApproved) SchemaVersion() int { return 2 }

func ExampleCodec() {
	codec, err := eventstore.NewCodec(LeaveApproved{})
	if err != nil {
		panic(err)
	}
	// Version 1 stored the number of days as "duration".
	codec.RegisterUpcaster("leave.approved", 1, func(data json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		m["days"] = m["duration"]
		delete(m, "duration")
		return json.Marshal(m)
	})

	name, version, data, err := codec.Encode(LeaveApproved{RequestID: "r-1", Days: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(name, version, string(data))

	old, err := codec.Decode("leave.approved", 1, []byte(`{"request_id":"r-0","duration":1.5}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", old)
	// Output:
	// leave.approved 2 {"request_id":"r-1","days":2}
	// {RequestID:r-0 Days:1.5 Note:}
}

// A command: load the stream, decide, append at the loaded version, and decide
// again if another writer got there first. The id derived from the request
// makes a retried request append nothing.
func ExampleStore_Update() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		panic(err)
	}
	codec, err := eventstore.NewCodec(LeaveApproved{})
	if err != nil {
		panic(err)
	}
	store := eventstore.New(pool, codec)

	requestID := uuid.MustParse("6f1c2a52-3c38-4b8e-9d4a-0f6f8c1d2e3a")
	res, err := store.Update(ctx, "leave-e1", func(history []eventstore.Event) ([]eventstore.EventData, error) {
		for _, e := range history {
			if a, ok := e.Payload.(LeaveApproved); ok && a.RequestID == requestID.String() {
				return nil, nil // already approved
			}
		}
		return []eventstore.EventData{{
			ID:       uuid.NewSHA1(requestID, []byte("approve")),
			Payload:  LeaveApproved{RequestID: requestID.String(), Days: 2},
			Metadata: eventstore.Metadata{Actor: "manager-7", RequestID: "req-42"},
		}}, nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.LastVersion, res.Duplicate)
}
