package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/eventstore"
)

// Holidays: the company calendar.

type holidayRow struct {
	Date calendar.Date
	Name string
}

var holidaysTable = newTable(table[calendar.Date, holidayRow]{
	name:    "holidays",
	columns: []string{"date", "name"},
	keys:    1,
	key:     func(r holidayRow) calendar.Date { return r.Date },
	keyArgs: func(k calendar.Date) []any { return []any{PGDate(k)} },
	values:  func(r holidayRow) []any { return []any{PGDate(r.Date), r.Name} },
	scan: func(row pgx.Row) (holidayRow, error) {
		var r holidayRow
		var d pgtype.Date
		err := row.Scan(&d, &r.Name)
		r.Date = DateOf(d)
		return r, err
	},
})

func holidaysModel() *Model {
	apply := func(days rows[calendar.Date, holidayRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case holiday.Declared:
				return days.put(ctx, holidayRow{Date: ev.Date, Name: ev.Name})
			case holiday.Withdrawn:
				return days.del(ctx, ev.Date)
			}
			return nil
		}
	}
	return &Model{
		Name:     Holidays,
		Category: holiday.Category,
		Tables:   []Table{holidaysTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, holidaysTable)) },
	}
}

// Queries.

// Holiday is a company holiday.
type Holiday struct {
	Date calendar.Date `json:"date"`
	Name string        `json:"name"`
}

// Holidays returns a year's holidays in date order.
func (q *Queries) Holidays(ctx context.Context, year int) ([]Holiday, error) {
	rows, err := q.pool.Query(ctx, `SELECT date, name FROM holidays WHERE date >= $1 AND date < $2 ORDER BY date`,
		PGDate(calendar.Date{Year: year, Month: time.January, Day: 1}), PGDate(calendar.Date{Year: year + 1, Month: time.January, Day: 1}))
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	list, err := collectRows(rows, holidaysTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	out := make([]Holiday, 0, len(list))
	for _, h := range list {
		out = append(out, Holiday(h))
	}
	return out, nil
}
