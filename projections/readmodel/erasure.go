package readmodel

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/domain/notification"
)

// ErasePersonal clears an erased employee's personal data from the read
// models, as the folds would write it from events whose personal fields are
// erased: a rebuild after the erasure gives the same rows. The folds keep it
// cleared, since every event sealed for the employee now decodes erased. The
// notifications that name them as decider keep their text, without the name.
func (q *Queries) ErasePersonal(ctx context.Context, employeeID string) error {
	err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		for _, sql := range []string{
			`UPDATE employees SET email = '', full_name = '', position = '', active = false, erased = true WHERE id = $1::uuid`,
			`UPDATE leave_requests SET reason = '', note = '', erased = true WHERE employee_id = $1::uuid`,
			`UPDATE attendance_corrections SET reason = '', note = '', erased = true WHERE employee_id = $1::uuid`,
			`UPDATE notifications SET message = '', data = '{}', erased = true WHERE subject_id = $1`,
		} {
			if _, err := tx.Exec(ctx, sql, employeeID); err != nil {
				return err
			}
		}
		return eraseDecider(ctx, tx, employeeID)
	})
	if err != nil {
		return fmt.Errorf("projections: erase %s from the read models: %w", employeeID, err)
	}
	return nil
}

// eraseDecider renders again, without the decider's name, the notifications
// of the decisions of an erased decider, as their events now read.
func eraseDecider(ctx context.Context, tx pgx.Tx, deciderID string) error {
	rows, err := tx.Query(ctx, `SELECT id, type, data FROM notifications WHERE decided_by = $1 AND NOT erased FOR UPDATE`, deciderID)
	if err != nil {
		return err
	}
	type named struct {
		id, typ string
		data    map[string]any
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (named, error) {
		var n named
		return n, r.Scan(&n.id, &n.typ, &n.data)
	})
	if err != nil {
		return err
	}
	for _, n := range list {
		delete(n.data, "decided_by_name")
		msg, data := notification.View(notification.Type(n.typ), "", n.data, notification.Decider{ID: deciderID})
		if _, err := tx.Exec(ctx, `UPDATE notifications SET message = $2, data = $3 WHERE id = $1`, n.id, msg, data); err != nil {
			return err
		}
	}
	return nil
}
