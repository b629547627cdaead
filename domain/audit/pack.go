package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// PackFormat names the layout of a pack, the file an auditor checks.
const PackFormat = "employee-tracking.audit-pack.v1"

// Pack is a run of consecutive seals and every event they hold, in feed
// order: all an auditor needs to check them with no database.
type Pack struct {
	Format string   `json:"format"`
	Seals  []Seal   `json:"seals"`
	Events []Record `json:"events"`
}

// Result is the outcome of a check: OK with the seals and events checked, or
// the first failure.
type Result struct {
	OK      bool     `json:"ok"`
	Seals   int      `json:"seals"`
	Events  int      `json:"events"`
	Failure *Failure `json:"failure,omitempty"`
}

// Chain checks seals, consecutive and in order, each against the events
// eventsOf returns for it, and stops at the first failure.
func Chain(seals []Seal, eventsOf func(Seal) ([]Record, error)) (Result, error) {
	var r Result
	var prev *Seal
	for i := range seals {
		events, err := eventsOf(seals[i])
		if err != nil {
			return Result{}, err
		}
		if f := CheckFrom(seals[0].Seq, prev, seals[i], events); f != nil {
			r.Failure = f
			return r, nil
		}
		r.Seals++
		r.Events += len(events)
		prev = &seals[i]
	}
	r.OK = true
	return r, nil
}

// CheckPack reads a pack and checks it. A pack that is not one (bad JSON, an
// unknown format, events out of feed order, anything after it but spaces) is
// an error naming where.
func CheckPack(b []byte) (Result, error) {
	var p Pack
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return Result{}, fmt.Errorf("pack: byte %d: %w", se.Offset, err)
		}
		return Result{}, fmt.Errorf("pack: %w", err)
	}
	// JSON's whitespace may end the file; anything else is not the pack's.
	if rest := bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return Result{}, fmt.Errorf("pack: byte %d: something follows the pack", len(b)-len(rest))
	}
	if p.Format != PackFormat {
		return Result{}, fmt.Errorf("pack: format %q, want %q", p.Format, PackFormat)
	}
	if len(p.Seals) == 0 {
		return Result{}, fmt.Errorf("pack: no seals")
	}
	for i := 1; i < len(p.Events); i++ {
		if p.Events[i-1].Cursor().Compare(p.Events[i].Cursor()) >= 0 {
			return Result{}, fmt.Errorf("pack: event %d (position %d) is not after the one before it in feed order", i, p.Events[i].Position)
		}
	}
	first, last := p.Seals[0].After, p.Seals[len(p.Seals)-1].Through
	for _, e := range p.Events {
		if c := e.Cursor(); c.Compare(first) <= 0 || c.Compare(last) > 0 {
			return Result{Failure: failAt(p.Seals[0].Seq, e.Position, "event outside the pack's seals")}, nil
		}
	}
	// upTo is the number of events at or before c in feed order.
	upTo := func(c Cursor) int {
		n, _ := slices.BinarySearchFunc(p.Events, c, func(e Record, c Cursor) int {
			if e.Cursor().Compare(c) <= 0 {
				return -1
			}
			return 1
		})
		return n
	}
	return Chain(p.Seals, func(s Seal) ([]Record, error) { return p.Events[upTo(s.After):upTo(s.Through)], nil })
}
