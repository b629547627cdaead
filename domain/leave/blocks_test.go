package leave

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/validation"
)

// blocked returns the blocks after adding each of list.
func blocked(t *testing.T, list ...Block) Blocks {
	t.Helper()
	var b Blocks
	for _, blk := range list {
		events, err := DecideBlock(b, AddBlock{Block: blk, Types: ReplayTypes(policy, nil), By: "admin"}, now)
		if err != nil {
			t.Fatalf("add %+v: %v", blk, err)
		}
		for _, ev := range events {
			b.Apply(ev)
		}
	}
	return b
}

func TestDecideBlock(t *testing.T) {
	t.Parallel()
	valid := Block{ID: "b1", Start: date("2024-12-23"), End: date("2024-12-31"), Reason: " year-end closing "}
	with := func(f func(*Block)) Block { blk := valid; f(&blk); return blk }
	tests := []struct {
		name      string
		blk       Block
		wantField string
	}{
		{"valid", valid, ""},
		{"one day", with(func(b *Block) { b.End = b.Start }), ""},
		{"listed types", with(func(b *Block) { b.LeaveTypes = []string{TypeSick, TypeUnpaid} }), ""},
		{"no id", with(func(b *Block) { b.ID = "" }), "id"},
		{"no start", with(func(b *Block) { b.Start = calendar.Date{} }), "start_date"},
		{"end before start", with(func(b *Block) { b.End = date("2024-12-22") }), "end_date"},
		{"blank reason", with(func(b *Block) { b.Reason = "  " }), "reason"},
		{"reason too long", with(func(b *Block) { b.Reason = strings.Repeat("x", 501) }), "reason"},
		{"empty list of types", with(func(b *Block) { b.LeaveTypes = []string{} }), "leave_types"},
		{"unknown type", with(func(b *Block) { b.LeaveTypes = []string{TypeAnnual, "study"} }), "leave_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := DecideBlock(Blocks{}, AddBlock{Block: tt.blk, Types: ReplayTypes(policy, nil), By: "admin"}, now)
			if tt.wantField != "" {
				var ve *validation.Error
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("got %v, want a validation error naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.blk
			want.Reason = strings.TrimSpace(want.Reason)
			if diff := cmp.Diff([]any{BlockAdded{Block: want, AddedBy: "admin", AddedAt: now}}, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideBlockRepeatsAndRemovals(t *testing.T) {
	t.Parallel()
	blk := Block{ID: "b1", Start: date("2024-12-23"), End: date("2024-12-31"), Reason: "closing",
		LeaveTypes: []string{TypeSick, TypeSick, TypeAnnual}}
	b := blocked(t, blk)
	got, ok := b.Get("b1")
	if !ok || !cmp.Equal(got.LeaveTypes, []string{TypeSick, TypeAnnual}) {
		t.Errorf("block b1: got %+v (%v), want its types without repeats", got, ok)
	}
	if events, err := DecideBlock(b, AddBlock{Block: blk, Types: ReplayTypes(policy, nil)}, now); err != nil || len(events) != 0 {
		t.Errorf("the same block again: got %v, %v; want nothing", events, err)
	}
	if _, err := DecideBlock(b, RemoveBlock{ID: "b2"}, now); !errors.Is(err, ErrBlockNotFound) {
		t.Errorf("remove an unknown block: got %v, want ErrBlockNotFound", err)
	}
	events, err := DecideBlock(b, RemoveBlock{ID: "b1", By: "admin"}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		b.Apply(ev)
	}
	if len(b.InForce()) != 0 {
		t.Errorf("after removal: %d blocks in force, want 0", len(b.InForce()))
	}
	if _, err := DecideBlock(b, RemoveBlock{ID: "b1"}, now); !errors.Is(err, ErrBlockNotFound) {
		t.Errorf("remove a removed block: got %v, want ErrBlockNotFound", err)
	}
}

// TestBlockRefusing: a block refuses leave of a type it lists, or of any
// tracked type when it lists none, on any of its days.
func TestBlockRefusing(t *testing.T) {
	t.Parallel()
	closing := Block{ID: "b1", Start: date("2024-12-23"), End: date("2024-12-27"), Reason: "closing"}
	sickOnly := Block{ID: "b2", Start: date("2024-12-02"), End: date("2024-12-02"), Reason: "audit", LeaveTypes: []string{TypeSick}}
	b := blocked(t, closing, sickOnly)
	untracked := ReplayTypes(policy, []any{TypeChanged{
		Type: Type{Code: TypeAnnual, Name: "Annual", Accrual: AccrualNone, Active: true}, EffectiveFrom: date("2024-12-20"),
	}})
	tests := []struct {
		name  string
		types Types
		typ   string
		dates []string
		want  string
	}{
		{"annual on its first day", ReplayTypes(policy, nil), TypeAnnual, []string{"2024-12-20", "2024-12-23"}, "b1"},
		{"annual on its last day", ReplayTypes(policy, nil), TypeAnnual, []string{"2024-12-27", "2024-12-30"}, "b1"},
		{"annual the day before and after", ReplayTypes(policy, nil), TypeAnnual, []string{"2024-12-20", "2024-12-30"}, ""},
		{"compensatory is tracked", ReplayTypes(policy, nil), TypeCompensatory, []string{"2024-12-24"}, "b1"},
		{"sick is not tracked", ReplayTypes(policy, nil), TypeSick, []string{"2024-12-24"}, ""},
		{"sick where listed", ReplayTypes(policy, nil), TypeSick, []string{"2024-12-02"}, "b2"},
		{"annual where only sick is listed", ReplayTypes(policy, nil), TypeAnnual, []string{"2024-12-02"}, ""},
		{"annual untracked from the request's first day", untracked, TypeAnnual, []string{"2024-12-23"}, ""},
		{"annual still tracked on the request's first day", untracked, TypeAnnual, []string{"2024-12-19", "2024-12-23"}, "b1"},
		{"no dates", ReplayTypes(policy, nil), TypeAnnual, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dates []calendar.Date
			for _, d := range tt.dates {
				dates = append(dates, date(d))
			}
			got, ok := b.Refusing(tt.types, tt.typ, dates)
			if got.ID != tt.want || ok != (tt.want != "") {
				t.Errorf("got block %q (%v), want %q", got.ID, ok, tt.want)
			}
		})
	}
}

// TestRequestOnBlockedDays: a request that takes leave on a blocked day is
// refused naming the block; one whose range only spans blocked days it does
// not take (a weekend) is not, and requests filed before the block stand.
func TestRequestOnBlockedDays(t *testing.T) {
	t.Parallel()
	// Saturday 2024-12-07 and Sunday 2024-12-08.
	weekend := Block{ID: "b1", Start: date("2024-12-07"), End: date("2024-12-08"), Reason: "inventory"}
	week := Block{ID: "b2", Start: date("2024-12-16"), End: date("2024-12-20"), Reason: "release week"}
	a := Replay([]any{granted(2024, 15)})
	filed := decide(t, &a, req("before", "2024-12-18", "2024-12-18"), policy)
	blocks := blocked(t, weekend, week)

	over := req("r1", "2024-12-06", "2024-12-09")
	over.Blocks = blocks
	decide(t, &a, over, policy)

	into := req("r2", "2024-12-13", "2024-12-16")
	into.Blocks = blocks
	_, err := Decide(a, into, policy, now)
	var be *BlockedError
	if !errors.As(err, &be) || be.Block.ID != "b2" {
		t.Fatalf("request into the blocked week: got %v, want BlockedError of b2", err)
	}
	for _, s := range []string{"2024-12-16", "2024-12-20", "release week"} {
		if !strings.Contains(be.Error(), s) {
			t.Errorf("message %q does not name %q", be.Error(), s)
		}
	}
	if r, ok := a.Request("before"); !ok || r.Status != StatusPending || len(filed) != 1 {
		t.Errorf("the request filed before the block: got %+v, want it pending", r)
	}
}
