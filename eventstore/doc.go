// Package eventstore is an append-only event store on Postgres (pgx v5).
//
// # Streams and appends
//
// Events belong to streams, one per aggregate ("leave-<employee>"), numbered by
// version from 1. Append stores a batch in one round trip through the SQL
// function append_events (migrations/00001_event_store.sql), which
//
//   - takes a per-stream transaction advisory lock as its first statement,
//   - treats a batch whose first event ID is already stored in the stream as a
//     repeat: it returns the stored versions, appends nothing, and the result
//     has Duplicate set (deterministic IDs make commands idempotent),
//   - checks the expected version (AnyVersion, NoStream, or an exact version)
//     and raises a conflict that Append returns as a *ConflictError,
//   - inserts all rows with one INSERT ... SELECT FROM unnest.
//
// An append at a known version (every Update, every command) first tries one
// plain statement that takes the same lock and inserts, costing about half as
// much; when the stream is not at that version, or the batch is a repeat, it
// inserts nothing or fails on a unique index, and append_events runs to say
// which (appendAtSQL).
//
// Appends at a known version that arrive while others are being written wait
// and go out together, as one transaction (batch.go): the locks of all their
// streams in key order, then one INSERT whose snapshot, taken after the
// locks, lets each append insert all its rows when its stream is exactly at
// its expected version and none otherwise, without failing the rest; an
// append left out goes to append_events alone. At most two batches are
// written at once, none holding a stream of another. An append that finds
// nothing being written goes out at once, alone. Under concurrency one commit
// then serves many appends, which is what lets the store outrun one INSERT
// per transaction (go run ./cmd/bench append).
//
// Update wraps load, decide and append at the loaded version, and decides again
// on a conflict, a bounded number of times. A trigger refuses UPDATE, DELETE and
// TRUNCATE on the events table: corrections are new events.
//
// Append runs as its own transaction. The store relies on Postgres' default
// READ COMMITTED isolation, in which each statement of append_events sees what
// the previous holder of the stream lock committed.
//
// # The global feed
//
// Every event records the id of the transaction that wrote it (tx_id, xid8) and
// a position from a sequence. Positions are taken at insert time but become
// visible at commit, so they do not appear in order: a reader that remembers
// "the last position seen" skips an event whose transaction commits late.
// ReadFeed instead reads in (tx_id, position) order and only the events of
// transactions older than the oldest transaction still running:
//
//	WHERE (tx_id, position) > (cursor) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
//	ORDER BY tx_id, position
//
// Every transaction below that fence has ended, so nothing can later appear
// behind a cursor: the feed is gap-free and each event is read once. Because the
// stream lock is taken before the append's transaction gets its xid, tx_id order
// within a stream equals version order, and the feed delivers each stream's
// events in version order.
//
// The price: the fence is the oldest running transaction of the whole Postgres
// cluster, in any database, not only of appends. A long-running writing
// transaction anywhere (a bulk import, an idle-in-transaction session, a
// forgotten psql BEGIN) holds the feed back until it ends; appends are not
// blocked, and the feed catches up at once afterwards. Keep write transactions
// short and set idle_in_transaction_session_timeout. Read-only transactions
// that never obtain an xid do not hold the fence.
//
// Consumers store their cursor with SaveCheckpoint, ideally in the transaction
// that applied the events, and resume from LoadCheckpoint. A Cursor has a text
// form ("<tx_id>.<position>") for APIs.
//
// # Cost
//
// An append is one round trip and one statement (two after a conflict or a
// repeat), or a share of a batch's; pgx prepares and caches each
// statement per connection and reads results in binary. Load uses the
// (stream_id, version) index. Reading JSON is what reading the feed mostly
// costs, so the metadata fields are extracted by Postgres rather than parsed in
// Go, and large pages are decoded on several cores.
//
// # Payloads
//
// A Codec maps stable wire names ("leave.approved") to Go types, stores each
// payload as JSON with a schema version, and upcasts older versions on read.
// Load and ReadFeed return events with their Payload decoded; an event the
// codec does not know is an error wrapping ErrUnknownEvent.
package eventstore
