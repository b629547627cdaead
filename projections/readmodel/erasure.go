package readmodel

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErasePersonal clears an erased employee's personal data from the read
// models, as the folds would write it from events whose personal fields are
// erased: a rebuild after the erasure gives the same rows. The folds keep it
// cleared, since every event sealed for the employee now decodes erased.
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
		return nil
	})
	if err != nil {
		return fmt.Errorf("projections: erase %s from the read models: %w", employeeID, err)
	}
	return nil
}
