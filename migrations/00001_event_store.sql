-- +goose Up

-- The event store. Rows are never changed once written (see the triggers below).
-- stream_id uses the "C" collation: stream ids are ASCII identifiers, byte order
-- makes comparisons cheap and lets the (stream_id, version) index serve prefix
-- range scans ("every stream of employee X").
CREATE TABLE events (
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
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
    CONSTRAINT events_version_positive CHECK (version > 0)
);

-- The global feed is read in (tx_id, position) order.
CREATE INDEX events_feed_idx ON events (tx_id, position);

-- The audit API filters the feed by event type.
CREATE INDEX events_type_feed_idx ON events (type, tx_id, position);

-- +goose StatementBegin
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on table % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'ES003',
              HINT = 'append a compensating event instead';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_refuse_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- append_events appends a batch to one stream in a single round trip.
--
-- The advisory lock is the first thing the transaction does, so its xid (assigned
-- by the INSERT) is taken after the lock: appends to one stream are serialized and
-- their tx_id order equals their version order, which the gap-free feed relies on.
-- The lock is only correct when append_events is the first write of its transaction.
--
-- SQLSTATEs raised for the Go side:
--   ES001  expected version does not match (DETAIL: "actual version N")
--   ES002  the first event id is already stored in another stream
--   22023  malformed arguments
-- +goose StatementBegin
CREATE FUNCTION append_events(
    stream          text,
    expected        bigint,
    ids             uuid[],
    types           text[],
    schema_versions int[],
    data            jsonb[],
    metadata        jsonb[],
    OUT first_version bigint,
    OUT last_version  bigint,
    OUT duplicate     boolean
)
LANGUAGE plpgsql AS $$
DECLARE
    n         int := coalesce(cardinality(ids), 0);
    current   bigint;
    stored_in text;
    at        timestamptz;
BEGIN
    -- 0x45530001 ("ES" 1) namespaces the per-stream locks.
    PERFORM pg_advisory_xact_lock(1163067393, hashtext(stream));

    IF n = 0 OR coalesce(cardinality(types), 0) <> n OR coalesce(cardinality(schema_versions), 0) <> n
       OR coalesce(cardinality(data), 0) <> n OR coalesce(cardinality(metadata), 0) <> n THEN
        RAISE EXCEPTION 'append_events: % ids, % types, % schema versions, % data, % metadata: need the same non-zero count',
            n, cardinality(types), cardinality(schema_versions), cardinality(data), cardinality(metadata)
            USING ERRCODE = '22023';
    END IF;
    IF stream IS NULL OR stream = '' THEN
        RAISE EXCEPTION 'append_events: empty stream id' USING ERRCODE = '22023';
    END IF;

    -- Both lookups in one statement: each statement of a function costs.
    SELECT (SELECT e.stream_id FROM events e WHERE e.event_id = ids[1]),
           coalesce((SELECT e.version FROM events e WHERE e.stream_id = stream ORDER BY e.version DESC LIMIT 1), 0)
    INTO stored_in, current;

    -- A batch whose first id is stored is a repeat of an earlier append.
    IF stored_in IS NOT NULL THEN
        IF stored_in <> stream THEN
            RAISE EXCEPTION 'event id % is already stored in stream %', ids[1], stored_in
                USING ERRCODE = 'ES002';
        END IF;
        SELECT min(e.version), max(e.version) INTO first_version, last_version
        FROM events e WHERE e.stream_id = stream AND e.event_id = ANY (ids);
        duplicate := true;
        RETURN;
    END IF;

    IF expected <> -1 AND expected <> current THEN
        RAISE EXCEPTION 'stream %: expected version %, actual version %', stream, expected, current
            USING ERRCODE = 'ES001', DETAIL = format('actual version %s', current);
    END IF;

    -- Taken after the lock, so recorded_at never decreases along a stream.
    at := clock_timestamp();
    INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
    SELECT u.id, stream, current + u.ord, u.type, u.schema_version, u.data, u.metadata, at
    FROM unnest(ids, types, schema_versions, data, metadata)
         WITH ORDINALITY AS u(id, type, schema_version, data, metadata, ord);

    first_version := current + 1;
    last_version := current + n;
    duplicate := false;
END;
$$;
-- +goose StatementEnd

-- Feed consumers (the relay, projectors) record how far they have read.
CREATE TABLE checkpoints (
    name       text PRIMARY KEY,
    tx_id      xid8 NOT NULL,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE checkpoints;
DROP FUNCTION append_events(text, bigint, uuid[], text[], int[], jsonb[], jsonb[]);
DROP TABLE events;
DROP FUNCTION events_refuse_change();
