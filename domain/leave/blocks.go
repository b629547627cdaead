package leave

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// BlocksCategory is the category of the company's stream of blocked periods:
// days on which new leave of some types is refused.
const BlocksCategory = "leaveblocks"

// BlocksStream is the name of the company's stream of blocked periods.
func BlocksStream() string { return streamid.Of(BlocksCategory, "company") }

// Block is a period, both ends included, on which new leave requests of its
// types are refused. Requests filed before it stand.
type Block struct {
	ID    string        `json:"id"`
	Start calendar.Date `json:"start_date"`
	End   calendar.Date `json:"end_date"`
	// Reason is what the company says of the period (a closing, a busy
	// season), shown to whoever is refused; it is written about no person.
	Reason string `json:"reason"`
	// LeaveTypes are the codes of the types it refuses; none means every
	// type that is tracked on the request's first day.
	LeaveTypes []string `json:"leave_types,omitempty"`
}

// BlockAdded blocks a period from now on.
type BlockAdded struct {
	Block   Block     `json:"block" personal:"no"`
	AddedBy string    `json:"added_by" personal:"no"`
	AddedAt time.Time `json:"added_at"`
}

// BlockRemoved lifts a block: new requests on its days are no longer refused
// by it.
type BlockRemoved struct {
	BlockID   string    `json:"block_id" personal:"no"`
	RemovedBy string    `json:"removed_by" personal:"no"`
	RemovedAt time.Time `json:"removed_at"`
}

func (BlockAdded) EventName() string   { return "leave_block.added" }
func (BlockRemoved) EventName() string { return "leave_block.removed" }

// BlockEvents lists a zero value of each event of the blocks stream, for the
// codec registry.
func BlockEvents() []any { return []any{BlockAdded{}, BlockRemoved{}} }

// ErrBlockNotFound answers an id no block in force has.
var ErrBlockNotFound error = errkind.New(errkind.NotFound, "leave block not found")

// BlockedError refuses a request that takes leave on a day of Block.
type BlockedError struct {
	Block Block
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("leave is blocked from %s to %s: %s", e.Block.Start, e.Block.End, e.Block.Reason)
}

// ErrorKind implements errkind.Kinded: a rule refuses the request.
func (e *BlockedError) ErrorKind() errkind.Kind { return errkind.Unprocessable }

// BlockState is a block in force, with who made it and when.
type BlockState struct {
	Block
	AddedBy string
	AddedAt time.Time
}

// Blocks are the blocks in force, in the order they were added. Fold with
// Apply or ReplayBlocks; a copy shares its state and is read-only.
type Blocks struct {
	list []BlockState
}

// ReplayBlocks folds the blocks stream's history.
func ReplayBlocks(history []any) Blocks {
	var b Blocks
	for _, ev := range history {
		b.Apply(ev)
	}
	return b
}

// Apply evolves the blocks by one event; events of other types are ignored.
func (b *Blocks) Apply(event any) {
	switch ev := event.(type) {
	case BlockAdded:
		b.list = append(b.list, BlockState{Block: ev.Block, AddedBy: ev.AddedBy, AddedAt: ev.AddedAt})
	case BlockRemoved:
		b.list = slices.DeleteFunc(slices.Clone(b.list), func(s BlockState) bool { return s.ID == ev.BlockID })
	}
}

// InForce returns the blocks in force, in the order they were added.
func (b Blocks) InForce() []BlockState { return slices.Clone(b.list) }

// Get returns the block in force with id.
func (b Blocks) Get(id string) (BlockState, bool) {
	i := slices.IndexFunc(b.list, func(s BlockState) bool { return s.ID == id })
	if i < 0 {
		return BlockState{}, false
	}
	return b.list[i], true
}

// Refusing returns the first block in force that refuses leave of type typ
// on any of dates, under the company's types.
func (b Blocks) Refusing(types Types, typ string, dates []calendar.Date) (Block, bool) {
	if len(dates) == 0 {
		return Block{}, false
	}
	for _, s := range b.list {
		if !s.covers(types, typ, dates[0]) {
			continue
		}
		for _, d := range dates {
			if !d.Before(s.Start) && !d.After(s.End) {
				return s.Block, true
			}
		}
	}
	return Block{}, false
}

// covers reports whether the block refuses type typ for a request starting
// on first: a type it lists, or, listing none, a type tracked that day.
func (b Block) covers(types Types, typ string, first calendar.Date) bool {
	if len(b.LeaveTypes) > 0 {
		return slices.Contains(b.LeaveTypes, typ)
	}
	t, ok := types.On(typ, first)
	return ok && t.Tracked
}

// AddBlock blocks a period; Types are the company's leave types, which the
// listed codes must name.
type AddBlock struct {
	Block Block
	Types Types
	By    string
}

// RemoveBlock lifts the block with ID.
type RemoveBlock struct {
	ID string
	By string
}

// BlockCommand is AddBlock or RemoveBlock.
type BlockCommand interface{ blockCommand() }

func (AddBlock) blockCommand()    {}
func (RemoveBlock) blockCommand() {}

// DecideBlock returns the events cmd causes on the blocks b at now, or why it
// is refused.
func DecideBlock(b Blocks, cmd BlockCommand, now time.Time) ([]any, error) {
	switch cmd := cmd.(type) {
	case AddBlock:
		blk := cmd.Block
		blk.Reason = strings.TrimSpace(blk.Reason)
		if err := checkBlock(blk, cmd.Types); err != nil {
			return nil, err
		}
		if _, ok := b.Get(blk.ID); ok {
			return nil, nil // the same command again: it was already added
		}
		blk.LeaveTypes = uniqueCodes(blk.LeaveTypes)
		return []any{BlockAdded{Block: blk, AddedBy: cmd.By, AddedAt: now.UTC()}}, nil
	case RemoveBlock:
		if _, ok := b.Get(cmd.ID); !ok {
			return nil, ErrBlockNotFound
		}
		return []any{BlockRemoved{BlockID: cmd.ID, RemovedBy: cmd.By, RemovedAt: now.UTC()}}, nil
	default:
		return nil, fmt.Errorf("leave: unknown block command %T", cmd)
	}
}

// checkBlock names each field of blk out of bounds, by its name in the API.
func checkBlock(blk Block, types Types) error {
	fields := map[string]string{}
	requireID(fields, "id", blk.ID)
	if !blk.Start.Valid() {
		fields["start_date"] = "must be a valid date"
	}
	if !blk.End.Valid() {
		fields["end_date"] = "must be a valid date"
	} else if blk.Start.Valid() && blk.End.Before(blk.Start) {
		fields["end_date"] = "must not be before start_date"
	}
	switch n := utf8.RuneCountInString(blk.Reason); {
	case n == 0:
		fields["reason"] = "required"
	case n > maxTextLen:
		fields["reason"] = fmt.Sprintf("must be at most %d characters", maxTextLen)
	}
	if blk.LeaveTypes != nil && len(blk.LeaveTypes) == 0 {
		fields["leave_types"] = "must name at least one leave type, or be left out for every tracked type"
	}
	for i, code := range blk.LeaveTypes {
		if _, ok := types.Latest(code); !ok {
			fields["leave_types"] = fmt.Sprintf("item %d names no leave type", i)
			break
		}
	}
	return validation.Check(fields)
}

// uniqueCodes is codes without repeats, in their first order.
func uniqueCodes(codes []string) []string {
	var out []string
	for _, c := range codes {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
