package readmodel

import (
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Paging limits of the list queries.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// Queries answers from the read models.
type Queries struct {
	pool *pgxpool.Pool
}

// NewQueries returns the read side on pool.
func NewQueries(pool *pgxpool.Pool) *Queries { return &Queries{pool: pool} }

func collectRows[R any](rows pgx.Rows, scan func(pgx.Row) (R, error)) ([]R, error) {
	defer rows.Close()
	var out []R
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// page trims a list fetched with one row more than limit and returns the
// cursor of the next page when there is one.
func page[T any](list []T, limit int, cursor func(T) string) ([]T, string, error) {
	if len(list) <= limit {
		return list, "", nil
	}
	list = list[:limit]
	return list, cursor(list[limit-1]), nil
}

func columnList(cols []string) string { return strings.Join(cols, ", ") }

func prefixed(p string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return out
}
