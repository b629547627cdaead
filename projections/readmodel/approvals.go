package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// Leave_approvals: the approval chain of each request filed with one, and of
// the step it waits on, what the reminders and escalations look for.

type approvalsRow struct {
	RequestID, EmployeeID string
	Chain                 approval.Chain
	AwaitedStep           *int
	OpenedAt              *time.Time
	Reminded, Escalated   bool
}

// withChain sets the chain and what it says of its awaited step.
func (r approvalsRow) withChain(c approval.Chain) approvalsRow {
	r.Chain, r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated = c, nil, nil, false, false
	if s, ok := c.Awaiting(); ok {
		n := s.Step
		r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated = &n, optionalTime(s.OpenedAt), s.Reminded, s.Escalated
	}
	return r
}

var approvalsTable = newTable(table[string, approvalsRow]{
	name:    "leave_approvals",
	columns: []string{"request_id", "employee_id", "steps", "awaited_step", "opened_at", "reminded", "escalated"},
	keys:    1,
	key:     func(r approvalsRow) string { return r.RequestID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r approvalsRow) []any {
		steps, _ := json.Marshal(r.Chain.Steps) // plain values: it cannot fail
		return []any{r.RequestID, r.EmployeeID, string(steps), r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated}
	},
	scan: func(row pgx.Row) (approvalsRow, error) {
		var r approvalsRow
		var steps []byte
		if err := row.Scan(&r.RequestID, &r.EmployeeID, &steps, &r.AwaitedStep, &r.OpenedAt, &r.Reminded, &r.Escalated); err != nil {
			return r, err
		}
		return r, json.Unmarshal(steps, &r.Chain.Steps)
	},
})

// approvalsFold folds the chain events with the leave account's own fold
// (leave.ApplyToChain). A request filed before chains has no row.
type approvalsFold struct {
	chains rows[string, approvalsRow]
}

func (f approvalsFold) apply(ctx context.Context, e eventstore.Event) error {
	id, ok := leave.ChainEvent(e.Payload)
	if !ok {
		return nil
	}
	r, ok, err := f.chains.get(ctx, id)
	if err != nil {
		return err
	}
	planned, plans := e.Payload.(leave.ApprovalsPlanned)
	switch {
	case plans:
		r = approvalsRow{RequestID: id, EmployeeID: planned.EmployeeID}
	case !ok:
		return nil
	}
	c := r.Chain
	leave.ApplyToChain(&c, e.Payload)
	return f.chains.put(ctx, r.withChain(c))
}

func approvalsModel() *Model {
	return &Model{
		Name:     Approvals,
		Category: leave.Category,
		Tables:   []Table{approvalsTable},
		fold:     func(at tablesAt) Apply { return approvalsFold{open(at, approvalsTable)}.apply },
	}
}

// Queries.

// chainsOf returns the chains of the requests ids that have one.
func (q *Queries) chainsOf(ctx context.Context, ids []string) (map[string]approval.Chain, error) {
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(approvalsTable.columns)+` FROM leave_approvals WHERE request_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("projections: approval chains: %w", err)
	}
	list, err := collectRows(rows, approvalsTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: approval chains: %w", err)
	}
	out := make(map[string]approval.Chain, len(list))
	for _, r := range list {
		out[r.RequestID] = r.Chain
	}
	return out, nil
}

// AwaitedStep is a step a request waits on, with when it opened.
type AwaitedStep struct {
	OpenedAt   time.Time
	RequestID  string
	EmployeeID string
	Step       int
}

// StepsOwedBy returns, in (OpenedAt, RequestID) order after after and at
// most limit, the awaited steps owed something at now: a reminder (not yet
// reminded, opened at or before remindBy) or an escalation (not yet
// escalated, opened at or before escalateBy).
func (q *Queries) StepsOwedBy(ctx context.Context, remindBy, escalateBy time.Time, after AwaitedStep, limit int) ([]AwaitedStep, error) {
	rows, err := q.pool.Query(ctx, `SELECT opened_at, request_id::text, employee_id::text, awaited_step FROM leave_approvals
		WHERE opened_at IS NOT NULL AND NOT (reminded AND escalated)
		  AND ((NOT reminded AND opened_at <= $1) OR (NOT escalated AND opened_at <= $2))
		  AND (opened_at, request_id::text) > ($3, $4)
		ORDER BY opened_at, request_id::text LIMIT $5`, remindBy, escalateBy, after.OpenedAt, after.RequestID, limit)
	if err != nil {
		return nil, fmt.Errorf("projections: steps owed: %w", err)
	}
	owed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AwaitedStep])
	if err != nil {
		return nil, fmt.Errorf("projections: steps owed: %w", err)
	}
	return owed, nil
}

// withChains sets the approvals of each view: its chain, or for a request
// filed before chains, its one manager step.
func (q *Queries) withChains(ctx context.Context, views []query.LeaveRequestView) ([]query.LeaveRequestView, error) {
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = v.ID
	}
	chains, err := q.chainsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, v := range views {
		c, ok := chains[v.ID]
		if !ok {
			var by string
			var at time.Time
			if v.DecidedBy != nil {
				by, at = *v.DecidedBy, *v.DecidedAt
			}
			c = leave.LegacyChain(leave.Status(v.Status), by, at)
		}
		views[i].Approvals = c
	}
	return views, nil
}
