package http

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/audit"
)

// SealJSON is one seal of the audit chain. Its events are those of the feed
// after from_cursor up to and including to_cursor; from_position and
// to_position are only their lowest and highest positions, since positions
// interleave across transactions. hash covers prev_hash, the range, count and
// root (docs/audit.md).
type SealJSON struct {
	Seq          int64     `json:"seq"`
	FromPosition int64     `json:"from_position"`
	ToPosition   int64     `json:"to_position"`
	FromCursor   string    `json:"from_cursor" example:"1234.5678"`
	ToCursor     string    `json:"to_cursor" example:"1299.5702"`
	Count        int       `json:"count"`
	Root         string    `json:"root" example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	PrevHash     string    `json:"prev_hash" example:"0000000000000000000000000000000000000000000000000000000000000000"`
	Hash         string    `json:"hash" example:"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"`
	SealedAt     time.Time `json:"sealed_at"`
}

func sealJSON(s audit.Seal) SealJSON {
	cursor := func(c audit.Cursor) string { return query.Cursor{TxID: c.TxID, Position: c.Position}.String() }
	return SealJSON{
		Seq: s.Seq, FromPosition: s.FromPosition, ToPosition: s.ToPosition, FromCursor: cursor(s.After), ToCursor: cursor(s.Through),
		Count: s.Count, Root: s.Root.String(), PrevHash: s.PrevHash.String(), Hash: s.Hash.String(), SealedAt: s.SealedAt,
	}
}

// SealPage is a page of the audit chain; next_after is the seq to continue
// after, null at the last seal.
type SealPage struct {
	Items     []SealJSON `json:"items"`
	NextAfter *string    `json:"next_after" example:"50"`
}

// handleSeals godoc
//
//	@Summary		Audit seals
//	@Description	The chain of seals in order: each seals the events committed after the one before, by the Merkle root of their hashes. Auditors and admins.
//	@Tags			audit
//	@Produce		json
//	@Security		BearerAuth
//	@Param			after	query		int	false	"seq from next_after"
//	@Param			limit	query		int	false	"page size (1-500)"	default(50)
//	@Success		200		{object}	SealPage
//	@Failure		400		{object}	ListQueryProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Router			/api/audit/seals/ [get]
func handleSeals(seals query.SealListHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		q := query.SealList{Limit: checkLimit(fields, c.QueryParam("limit")), After: int64(checkInt(fields, "after", c.QueryParam("after"), 0, 0, math.MaxInt))}
		if err := queryError(fields); err != nil {
			return err
		}
		page, err := seals.Handle(c.Request().Context(), q)
		if err != nil {
			return err
		}
		out := SealPage{Items: make([]SealJSON, len(page.Seals))}
		for i, s := range page.Seals {
			out.Items[i] = sealJSON(s)
		}
		if page.Next != nil {
			out.NextAfter = nextAfter(strconv.FormatInt(*page.Next, 10))
		}
		return c.JSON(http.StatusOK, out)
	}
}

// VerifyJSON is the outcome of a check of the seals: ok with the seals and
// events checked, or the first seal that fails, the event where the failure
// is one event's, and why.
type VerifyJSON struct {
	OK       bool   `json:"ok"`
	Seals    *int   `json:"seals,omitempty"`
	Events   *int   `json:"events,omitempty"`
	Seal     *int64 `json:"seal,omitempty"`
	Position *int64 `json:"position,omitempty"`
	Reason   string `json:"reason,omitempty" example:"event changed: its hash does not match the seal's"`
}

// VerifyQueryProblem answers a range of seals that is not one.
type VerifyQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"to_seq:must not be below from_seq"`
}

// handleVerifySeals godoc
//
//	@Summary		Verify the audit chain
//	@Description	Recomputes the seals from_seq through to_seq (default: every seal) from the stored events and checks the chain's links. Names the first event changed, removed or inserted behind the store's back. For a long chain, etctl audit verify runs without the request's time limit.
//	@Tags			audit
//	@Produce		json
//	@Security		BearerAuth
//	@Param			from_seq	query		int	false	"first seal"	default(1)
//	@Param			to_seq		query		int	false	"last seal (default: the last)"
//	@Success		200			{object}	VerifyJSON
//	@Failure		400			{object}	VerifyQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		403			{object}	ForbiddenProblem
//	@Router			/api/audit/verify/ [get]
func handleVerifySeals(verify query.VerifySealsHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		q := query.VerifySeals{
			FromSeq: int64(checkInt(fields, "from_seq", c.QueryParam("from_seq"), 1, 1, math.MaxInt)),
			ToSeq:   int64(checkInt(fields, "to_seq", c.QueryParam("to_seq"), 0, 1, math.MaxInt)),
		}
		if _, bad := fields["from_seq"]; !bad && q.ToSeq != 0 && q.ToSeq < q.FromSeq {
			fields["to_seq"] = "must not be below from_seq"
		}
		if err := queryError(fields); err != nil {
			return err
		}
		r, err := verify.Handle(c.Request().Context(), q)
		if err != nil {
			return err
		}
		if f := r.Failure; f != nil {
			return c.JSON(http.StatusOK, VerifyJSON{Seal: &f.Seal, Position: f.Position, Reason: f.Reason})
		}
		return c.JSON(http.StatusOK, VerifyJSON{OK: true, Seals: &r.Seals, Events: &r.Events})
	}
}

// ProofStepJSON is one step of a Merkle path: the sibling's hash and its side.
type ProofStepJSON struct {
	Side string `json:"side" enums:"left,right"`
	Hash string `json:"hash"`
}

// ProofJSON proves an event: hash is SHA-256 of the event's canonical form,
// and path leads from it, step by step, to the seal's root; valid says
// whether it does (docs/audit.md).
type ProofJSON struct {
	Event EventAsHashedJSON `json:"event"`
	Hash  string            `json:"hash"`
	Seal  SealJSON          `json:"seal"`
	Index int               `json:"index"`
	Path  []ProofStepJSON   `json:"path"`
	Valid bool              `json:"valid"`
}

// EventAsHashedJSON is an event exactly as its hash covers it: data and
// metadata are the text of the stored JSON, byte for byte, and recorded_at
// has microseconds.
type EventAsHashedJSON struct {
	Position   int64  `json:"position"`
	StreamID   string `json:"stream_id"`
	Version    int64  `json:"version"`
	Type       string `json:"type"`
	Data       string `json:"data"`
	Metadata   string `json:"metadata"`
	RecordedAt string `json:"recorded_at" example:"2026-03-02T08:01:02.123456Z"`
}

// handleEventProof godoc
//
//	@Summary		Proof of an event
//	@Description	The event, its seal and the Merkle path from the event's hash to the seal's root. 404 for an unknown position and for an event not sealed yet (seals follow the feed within SEAL_INTERVAL).
//	@Tags			audit
//	@Produce		json
//	@Security		BearerAuth
//	@Param			position	path		int	true	"the event's position"
//	@Success		200			{object}	ProofJSON
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		403			{object}	ForbiddenProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/events/{position}/proof/ [get]
func handleEventProof(proofs query.EventProofHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		position, err := strconv.ParseInt(c.Param("position"), 10, 64)
		if err != nil || position < 1 {
			return errNotFound
		}
		p, err := proofs.Handle(c.Request().Context(), position)
		if err != nil {
			return err
		}
		e := p.Event
		out := ProofJSON{
			Event: EventAsHashedJSON{Position: e.Position, StreamID: e.StreamID, Version: e.Version, Type: e.Type, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt},
			Hash:  p.Hash.String(), Seal: sealJSON(p.Seal), Index: p.Index, Path: make([]ProofStepJSON, len(p.Path)), Valid: p.Valid(),
		}
		for i, s := range p.Path {
			out.Path[i] = ProofStepJSON{Side: "right", Hash: s.Hash.String()}
			if s.Left {
				out.Path[i].Side = "left"
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}
