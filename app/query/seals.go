package query

import (
	"context"

	"github.com/acme/employee-tracking/domain/audit"
)

// Seals is what the audit queries read of the seals; *seal.Store of
// eventstore/seal satisfies it.
type Seals interface {
	List(ctx context.Context, after int64, limit int) ([]audit.Seal, error)
	Verify(ctx context.Context, fromSeq, toSeq int64) (audit.Result, error)
	Proof(ctx context.Context, position int64) (audit.Proof, error)
}

// SealList asks for the seals after seq After, up to Limit.
type SealList struct {
	After int64
	Limit int
}

// SealPage is a page of seals; Next is the seq to continue after, nil at
// the end of the chain.
type SealPage struct {
	Seals []audit.Seal
	Next  *int64
}

// SealListHandler lists the audit chain.
type SealListHandler struct{ seals Seals }

// NewSealListHandler returns the handler.
func NewSealListHandler(seals Seals) SealListHandler { return SealListHandler{seals: seals} }

// Handle returns the page.
func (h SealListHandler) Handle(ctx context.Context, q SealList) (SealPage, error) {
	// One seal more than the page tells whether a next page exists.
	seals, err := h.seals.List(ctx, q.After, q.Limit+1)
	if err != nil {
		return SealPage{}, err
	}
	page := SealPage{Seals: seals[:min(q.Limit, len(seals))]}
	if len(seals) > q.Limit {
		next := seals[q.Limit-1].Seq
		page.Next = &next
	}
	return page, nil
}

// VerifySeals asks to check seals FromSeq through ToSeq (0: the last)
// against the stored events.
type VerifySeals struct{ FromSeq, ToSeq int64 }

// VerifySealsHandler recomputes the seals from the stored events.
type VerifySealsHandler struct{ seals Seals }

// NewVerifySealsHandler returns the handler.
func NewVerifySealsHandler(seals Seals) VerifySealsHandler { return VerifySealsHandler{seals: seals} }

// Handle checks the seals; a failure is a result, not an error.
func (h VerifySealsHandler) Handle(ctx context.Context, q VerifySeals) (audit.Result, error) {
	return h.seals.Verify(ctx, q.FromSeq, q.ToSeq)
}

// EventProofHandler proves an event by its seal.
type EventProofHandler struct{ seals Seals }

// NewEventProofHandler returns the handler.
func NewEventProofHandler(seals Seals) EventProofHandler { return EventProofHandler{seals: seals} }

// Handle returns the proof of the event at position: audit.ErrNoEvent or
// audit.ErrNotSealed when there is none.
func (h EventProofHandler) Handle(ctx context.Context, position int64) (audit.Proof, error) {
	return h.seals.Proof(ctx, position)
}
