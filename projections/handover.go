package projections

import (
	"context"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
)

// handOver is this process's consumers as the relay hands them events
// (relay.Consumers): each event decoded once, every group's batch side by
// side, rather than each group reading and decoding every event from Redis.
type handOver struct {
	rt         *runtime
	consumers  []consumer
	partitions int
	// peers, when set, tell whether this instance is alone on the bus;
	// without them the relay hands over a backlog only.
	peers *bus.Instances
}

func (h *handOver) HandledTo(group string, p int) eventstore.Cursor { return h.rt.marks.get(group, p) }

// Alone: no other instance is alive on the bus, and so no other process's
// members read it.
func (h *handOver) Alone() bool { return h.peers.Alone() }

// Deliver hands each group the events of its category, shared read-only,
// in one batch as a batch read from Redis, which is halved when it fails. A
// group still failing fails the delivery; the relay delivers it again, and
// the versions skip what was applied.
func (h *handOver) Deliver(ctx context.Context, stored []eventstore.Event, to eventstore.Cursor) error {
	decoded, errs := h.decode(stored)
	byCategory := map[string][]eventstore.Event{}
	var undecodable []eventstore.Event
	var decodeErrs []error
	for i, e := range decoded {
		category, _, ok := streamid.Split(e.StreamID)
		if !ok {
			continue
		}
		if errs[i] != nil {
			undecodable = append(undecodable, e)
			decodeErrs = append(decodeErrs, errs[i])
			continue
		}
		byCategory[category] = append(byCategory[category], e)
	}
	// Each group keeps going when another fails: what it handled is done.
	var g errgroup.Group
	for _, c := range h.consumers {
		g.Go(func() error {
			if err := h.rt.handleAll(ctx, c, byCategory[c.reads()]); err != nil {
				h.rt.logger.Warn("projections: handing over a backlog failed, the relay will retry", "consumer", c.name(), "err", err)
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, e := range undecodable {
		payload, _ := bus.EventPayload(e)
		for _, c := range h.consumers {
			if reads(c, e.StreamID) {
				if err := h.rt.park(ctx, c.name(), e.ID.String(), payload, nil, decodeErrs[i]); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range h.consumers {
		for p := range h.partitions {
			h.rt.marks.mark(c.name(), p, to)
		}
	}
	return nil
}

// decode decodes the events on every core, a part of the batch each: the
// groups wait for all of it, and it is most of the process's work in a
// hand-over. errs[i] is why decoded[i] could not be.
func (h *handOver) decode(stored []eventstore.Event) (decoded []eventstore.Event, errs []error) {
	decoded, errs = slices.Clone(stored), make([]error, len(stored))
	codec := h.rt.store.Codec()
	workers := goruntime.GOMAXPROCS(0)
	size := (len(decoded) + workers - 1) / workers
	var wg sync.WaitGroup
	for from := 0; from < len(decoded); from += size {
		wg.Go(func() {
			for i := from; i < min(from+size, len(decoded)); i++ {
				if err := codec.DecodeEvent(&decoded[i]); err != nil {
					errs[i] = fmt.Errorf("decode %s: %w", decoded[i].Type, err)
				}
			}
		})
	}
	wg.Wait()
	return decoded, errs
}
