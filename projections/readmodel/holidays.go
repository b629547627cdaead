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

// Holidays: the holidays of every calendar.

// holidayKey is a holiday's calendar and date.
type holidayKey struct {
	Calendar string
	Date     calendar.Date
}

type holidayRow struct {
	holidayKey
	Name string
}

var holidaysTable = newTable(table[holidayKey, holidayRow]{
	name:    "holidays",
	columns: []string{"calendar", "date", "name"},
	types:   []string{"text", "date", "text"},
	keys:    2,
	key:     func(r holidayRow) holidayKey { return r.holidayKey },
	keyArgs: func(k holidayKey) []any { return []any{k.Calendar, PGDate(k.Date)} },
	values:  func(r holidayRow) []any { return []any{r.Calendar, PGDate(r.Date), r.Name} },
	scan: func(row pgx.Row) (holidayRow, error) {
		var r holidayRow
		var d pgtype.Date
		err := row.Scan(&r.Calendar, &d, &r.Name)
		r.Date = DateOf(d)
		return r, err
	},
})

func holidaysModel() *Model {
	apply := func(days rows[holidayKey, holidayRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case holiday.Declared:
				return days.put(ctx, holidayRow{holidayKey: holidayKey{holiday.CalendarCode(ev.Calendar), ev.Date}, Name: ev.Name})
			case holiday.Withdrawn:
				return days.del(ctx, holidayKey{holiday.CalendarCode(ev.Calendar), ev.Date})
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

// Holiday is a holiday of a calendar.
type Holiday struct {
	Date calendar.Date `json:"date"`
	Name string        `json:"name"`
}

// Holidays returns a year's holidays of the calendar code in date order.
func (q *Queries) Holidays(ctx context.Context, code string, year int) ([]Holiday, error) {
	rows, err := q.pool.Query(ctx, `SELECT calendar, date, name FROM holidays WHERE calendar = $1 AND date >= $2 AND date < $3 ORDER BY date`,
		holiday.CalendarCode(code), PGDate(calendar.Date{Year: year, Month: time.January, Day: 1}), PGDate(calendar.Date{Year: year + 1, Month: time.January, Day: 1}))
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	list, err := collectRows(rows, holidaysTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	out := make([]Holiday, 0, len(list))
	for _, h := range list {
		out = append(out, Holiday{Date: h.Date, Name: h.Name})
	}
	return out, nil
}
