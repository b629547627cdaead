package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Delegations: every delegation of a manager's approval steps.

type delegationRow struct {
	ID, ManagerID, DelegateID string
	Start, End                calendar.Date
	DelegatedBy               string
	DelegatedAt               time.Time
	Revoked                   bool
}

var delegationsTable = newTable(table[string, delegationRow]{
	name:    "delegations",
	columns: []string{"id", "manager_id", "delegate_id", "start_date", "end_date", "delegated_by", "delegated_at", "revoked"},
	types:   []string{"uuid", "uuid", "uuid", "date", "date", "uuid", timestamptz, "boolean"},
	keys:    1,
	key:     func(r delegationRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r delegationRow) []any {
		return []any{r.ID, r.ManagerID, r.DelegateID, PGDate(r.Start), PGDate(r.End), r.DelegatedBy, r.DelegatedAt, r.Revoked}
	},
	scan: func(row pgx.Row) (delegationRow, error) {
		var r delegationRow
		var start, end pgtype.Date
		err := row.Scan(&r.ID, &r.ManagerID, &r.DelegateID, &start, &end, &r.DelegatedBy, &r.DelegatedAt, &r.Revoked)
		r.Start, r.End = DateOf(start), DateOf(end)
		return r, err
	},
})

type delegationsFold struct {
	delegations rows[string, delegationRow]
}

func (f delegationsFold) apply(ctx context.Context, e eventstore.Event) error {
	switch ev := e.Payload.(type) {
	case approval.Delegated:
		return f.delegations.put(ctx, delegationRow{
			ID: ev.DelegationID, ManagerID: ev.ManagerID, DelegateID: ev.DelegateID, Start: ev.StartDate, End: ev.EndDate,
			DelegatedBy: ev.DelegatedBy, DelegatedAt: ev.DelegatedAt.UTC(),
		})
	case approval.DelegationRevoked:
		r, ok, err := f.delegations.get(ctx, ev.DelegationID)
		if err != nil {
			return err
		}
		if !ok {
			return poison.Mark(fmt.Errorf("%s %s: unknown delegation %s", e.Type, e.ID, ev.DelegationID))
		}
		r.Revoked = true
		return f.delegations.put(ctx, r)
	}
	return nil
}

func delegationsModel() *Model {
	return &Model{
		Name:     Delegations,
		Category: approval.DelegationCategory,
		Tables:   []Table{delegationsTable},
		fold:     func(at tablesAt) Apply { return delegationsFold{open(at, delegationsTable)}.apply },
	}
}

// Queries.

// ListDelegations returns delegations by id, a page at a time.
func (q *Queries) ListDelegations(ctx context.Context, f query.DelegationFilter) ([]query.DelegationView, string, error) {
	for _, id := range []string{f.Involving, f.After} {
		if id != "" && !isUUID(id) {
			return []query.DelegationView{}, "", nil
		}
	}
	limit := clampLimit(f.Limit)
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(delegationsTable.columns)+` FROM delegations
		WHERE ($1 = '' OR manager_id = $1::uuid OR delegate_id = $1::uuid) AND ($2 = '' OR id > $2::uuid)
		ORDER BY id LIMIT $3`, f.Involving, f.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list delegations: %w", err)
	}
	list, err := collectRows(rows, delegationsTable.scan)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list delegations: %w", err)
	}
	out := make([]query.DelegationView, 0, len(list))
	for _, r := range list {
		out = append(out, query.DelegationView{ID: r.ID, ManagerID: r.ManagerID, DelegateID: r.DelegateID, StartDate: r.Start,
			EndDate: r.End, DelegatedBy: r.DelegatedBy, DelegatedAt: r.DelegatedAt, Revoked: r.Revoked})
	}
	return page(out, limit, func(v query.DelegationView) string { return v.ID })
}
