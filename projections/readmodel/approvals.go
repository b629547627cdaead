package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// Leave_approvals and correction_approvals: the approval chain of each leave
// request and each attendance correction filed with one, and of the step it
// waits on, what the reminders and escalations look for and who holds it.

type approvalsRow struct {
	RequestID, EmployeeID string
	Chain                 approval.Chain
	AwaitedStep           *int
	OpenedAt              *time.Time
	Reminded, Escalated   bool
	// ApproverID, RoutedTo and EscalatedTo hold the awaited step.
	ApproverID, RoutedTo, EscalatedTo *string
}

// withChain sets the chain and what it says of its awaited step.
func (r approvalsRow) withChain(c approval.Chain) approvalsRow {
	r.Chain, r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated = c, nil, nil, false, false
	r.ApproverID, r.RoutedTo, r.EscalatedTo = nil, nil, nil
	if s, ok := c.Awaiting(); ok {
		n := s.Step
		r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated = &n, optionalTime(s.OpenedAt), s.Reminded, s.Escalated
		r.ApproverID, r.RoutedTo, r.EscalatedTo = optional(s.ApproverID), optional(s.RoutedTo), optional(s.EscalatedTo)
	}
	return r
}

// chainsTable is a table of chains keyed by the request's id, in column key.
func chainsTable(name, key string) *table[string, approvalsRow] {
	return newTable(table[string, approvalsRow]{
		name: name,
		columns: []string{key, "employee_id", "steps", "awaited_step", "opened_at", "reminded", "escalated",
			"approver_id", "routed_to", "escalated_to"},
		types:   []string{"uuid", "uuid", "jsonb", "integer", timestamptz, "boolean", "boolean", "uuid", "uuid", "uuid"},
		keys:    1,
		key:     func(r approvalsRow) string { return r.RequestID },
		keyArgs: func(k string) []any { return []any{k} },
		values: func(r approvalsRow) []any {
			steps, _ := json.Marshal(r.Chain.Steps) // plain values: it cannot fail
			return []any{r.RequestID, r.EmployeeID, string(steps), r.AwaitedStep, r.OpenedAt, r.Reminded, r.Escalated,
				r.ApproverID, r.RoutedTo, r.EscalatedTo}
		},
		scan: func(row pgx.Row) (approvalsRow, error) {
			var r approvalsRow
			var steps []byte
			if err := row.Scan(&r.RequestID, &r.EmployeeID, &steps, &r.AwaitedStep, &r.OpenedAt, &r.Reminded, &r.Escalated,
				&r.ApproverID, &r.RoutedTo, &r.EscalatedTo); err != nil {
				return r, err
			}
			return r, json.Unmarshal(steps, &r.Chain.Steps)
		},
	})
}

var (
	approvalsTable           = chainsTable("leave_approvals", "request_id")
	correctionApprovalsTable = chainsTable("correction_approvals", "correction_id")
)

// chainsFold folds the chain events of one kind of request with the domain's
// own fold (leave.ApplyToChain, attendance.ApplyToCorrectionChain). A request
// filed without a chain has no row.
type chainsFold struct {
	chains rows[string, approvalsRow]
	// of names the request an event of a chain concerns; planned is the
	// employee of an event that plans one.
	of      func(event any) (id string, ok bool)
	planned func(event any) (employeeID string, ok bool)
	apply   func(c *approval.Chain, event any)
}

func (f chainsFold) fold(ctx context.Context, e eventstore.Event) error {
	id, ok := f.of(e.Payload)
	if !ok {
		return nil
	}
	r, ok, err := f.chains.get(ctx, id)
	if err != nil {
		return err
	}
	employeeID, plans := f.planned(e.Payload)
	switch {
	case plans:
		r = approvalsRow{RequestID: id, EmployeeID: employeeID}
	case !ok:
		return nil
	}
	c := r.Chain
	f.apply(&c, e.Payload)
	return f.chains.put(ctx, r.withChain(c))
}

func approvalsModel() *Model {
	return &Model{
		Name:     Approvals,
		Category: leave.Category,
		Tables:   []Table{approvalsTable},
		fold: func(at tablesAt) Apply {
			return chainsFold{chains: open(at, approvalsTable), of: leave.ChainEvent, apply: leave.ApplyToChain,
				planned: func(event any) (string, bool) {
					ev, ok := event.(leave.ApprovalsPlanned)
					return ev.EmployeeID, ok
				}}.fold
		},
	}
}

// foldCorrectionChains folds the chains of corrections into chains; the
// attendance model, which keeps the corrections, runs it beside them.
func foldCorrectionChains(chains rows[string, approvalsRow]) Apply {
	return chainsFold{chains: chains, of: attendance.CorrectionChainEvent, apply: attendance.ApplyToCorrectionChain,
		planned: func(event any) (string, bool) {
			ev, ok := event.(attendance.CorrectionApprovalsPlanned)
			return ev.EmployeeID, ok
		}}.fold
}

// Queries.

// chainsOf returns the chains of the requests ids that have one in chains.
func (q *Queries) chainsOf(ctx context.Context, chains *table[string, approvalsRow], ids []string) (map[string]approval.Chain, error) {
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(chains.columns)+` FROM `+chains.name+` WHERE `+chains.columns[0]+` = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("projections: approval chains: %w", err)
	}
	list, err := collectRows(rows, chains.scan)
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
	// Subject is whose chain it is: a leave request's or a correction's.
	Subject approval.Subject
}

// StepsOwedBy returns, in (OpenedAt, RequestID) order after after and at
// most limit, the awaited steps of leave requests and corrections owed
// something at now: a reminder (not yet reminded, opened at or before
// remindBy) or an escalation (not yet escalated, opened at or before
// escalateBy).
func (q *Queries) StepsOwedBy(ctx context.Context, remindBy, escalateBy time.Time, after AwaitedStep, limit int) ([]AwaitedStep, error) {
	owedFrom := func(t *table[string, approvalsRow], subject approval.Subject) string {
		return `SELECT opened_at, ` + t.columns[0] + `::text AS id, employee_id::text, awaited_step, '` + string(subject) + `' AS subject
			FROM ` + t.name + ` WHERE opened_at IS NOT NULL AND NOT (reminded AND escalated)
			  AND ((NOT reminded AND opened_at <= $1) OR (NOT escalated AND opened_at <= $2))
			  AND (opened_at, ` + t.columns[0] + `::text) > ($3, $4)`
	}
	rows, err := q.pool.Query(ctx, owedFrom(approvalsTable, approval.SubjectLeave)+` UNION ALL `+
		owedFrom(correctionApprovalsTable, approval.SubjectCorrection)+`
		ORDER BY opened_at, id LIMIT $5`, remindBy, escalateBy, after.OpenedAt, after.RequestID, limit)
	if err != nil {
		return nil, fmt.Errorf("projections: steps owed: %w", err)
	}
	owed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AwaitedStep])
	if err != nil {
		return nil, fmt.Errorf("projections: steps owed: %w", err)
	}
	return owed, nil
}

// requestsWhere is the condition of a list of requests (alias r, with id,
// employee_id and status) whose chains are in chains, on the arguments
// requestArgs gives: the status, the employees the caller may read, the
// cursor, and the requests whose awaited step the holder holds (held).
func requestsWhere(chains *table[string, approvalsRow]) string {
	key := "a." + chains.columns[0]
	held := `$6 <> '' AND (
		r.id IN (SELECT ` + key + ` FROM ` + chains.name + ` a WHERE a.awaited_step IS NOT NULL AND a.employee_id <> $6::uuid AND (
			a.approver_id = $6::uuid OR a.routed_to = $6::uuid OR (a.escalated AND a.escalated_to = $6::uuid)
			OR ($7 AND (a.approver_id IS NULL OR (a.escalated AND a.escalated_to IS NULL)))
			OR a.approver_id IN (SELECT d.manager_id FROM delegations d
				WHERE d.delegate_id = $6::uuid AND NOT d.revoked AND d.start_date <= $8 AND d.end_date >= $8)))
		OR (r.status = 'pending' AND r.employee_id <> $6::uuid AND NOT EXISTS (SELECT 1 FROM ` + chains.name + ` a WHERE ` + key + ` = r.id)
			AND r.employee_id IN (SELECT e.id FROM employees e WHERE e.manager_id = $6::uuid OR ($7 AND e.manager_id IS NULL))))`
	return `($1 = '' OR r.status = $1) AND ($4 = '' OR r.id > $4::uuid)
		AND ((NOT $9 AND ($2 = '' OR r.employee_id = $2::uuid)
		      AND ($3 = '' OR r.employee_id IN (SELECT id FROM employees WHERE manager_id = $3::uuid)))
		     OR (` + held + `))`
}

// requestArgs are the arguments of requestsWhere and of a page of limit.
func requestArgs(f query.RequestFilter, limit int) []any {
	var h query.StepHolder
	if f.Holder != nil && isUUID(f.Holder.EmployeeID) {
		h = *f.Holder
	}
	return []any{f.Status, f.EmployeeID, f.ManagerID, f.After, limit + 1, h.EmployeeID, h.Admin, PGDate(h.Today), f.AwaitingOnly}
}

// validRequestFilter reports whether the ids f names can name anything.
func validRequestFilter(f query.RequestFilter) bool {
	for _, id := range []string{f.EmployeeID, f.ManagerID, f.After} {
		if id != "" && !isUUID(id) {
			return false
		}
	}
	return true
}

// withChains sets the approvals of each view: its chain, or for a request
// filed without one, its one manager step as decided as the request.
func withChains[V any](ctx context.Context, q *Queries, chains *table[string, approvalsRow], views []V, id func(V) string,
	set func(v *V, c approval.Chain, chained bool)) ([]V, error) {
	ids := make([]string, len(views))
	for i, v := range views {
		ids[i] = id(v)
	}
	found, err := q.chainsOf(ctx, chains, ids)
	if err != nil {
		return nil, err
	}
	for i, v := range views {
		c, ok := found[id(v)]
		set(&views[i], c, ok)
	}
	return views, nil
}

// oneStep is the chain of a request decided without one, from its view.
func oneStep(status string, decidedBy *string, decidedAt *time.Time) approval.Chain {
	var by string
	var at time.Time
	if decidedBy != nil && decidedAt != nil {
		by, at = *decidedBy, *decidedAt
	}
	return approval.OneStep(approval.Status(status), by, at)
}

// withLeaveChains sets the approvals of each leave request.
func (q *Queries) withLeaveChains(ctx context.Context, views []query.LeaveRequestView) ([]query.LeaveRequestView, error) {
	return withChains(ctx, q, approvalsTable, views, func(v query.LeaveRequestView) string { return v.ID },
		func(v *query.LeaveRequestView, c approval.Chain, chained bool) {
			if !chained {
				c = oneStep(v.Status, v.DecidedBy, v.DecidedAt)
			}
			v.Approvals = c
		})
}

// withCorrectionChains sets the approvals of each correction.
func (q *Queries) withCorrectionChains(ctx context.Context, views []query.CorrectionView) ([]query.CorrectionView, error) {
	return withChains(ctx, q, correctionApprovalsTable, views, func(v query.CorrectionView) string { return v.ID },
		func(v *query.CorrectionView, c approval.Chain, chained bool) {
			if !chained {
				c = oneStep(v.Status, v.DecidedBy, v.DecidedAt)
			}
			v.Approvals = c
		})
}
