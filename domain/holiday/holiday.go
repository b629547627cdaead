// Package holiday keeps the company's public holidays: the holiday calendars
// of its places (calendars.go), and each calendar's holidays, one stream per
// calendar and year, so declaring a date is checked against that year only.
package holiday

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Category is the category of the holiday streams, one per calendar and
// year.
const Category = "holidays"

// Stream is the name of the stream holding a calendar's holidays of a year:
// holidays-<year> for the default calendar, whose streams predate the
// others, and holidays-<code>-<year> for any other (a code holds no dash).
func Stream(code string, year int) string {
	if CalendarCode(code) == Default {
		return streamid.Of(Category, strconv.Itoa(year))
	}
	return streamid.Of(Category, code+"-"+strconv.Itoa(year))
}

var (
	ErrAlreadyDeclared error = errkind.New(errkind.Conflict, "holiday already declared on that date")
	ErrNotDeclared     error = errkind.New(errkind.NotFound, "no holiday declared on that date")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// Declared and Withdrawn name their calendar; those recorded before there
// were calendars per place name none, and belong to the default calendar
// (CalendarCode reads them so).
type Declared struct {
	Calendar string        `json:"calendar,omitempty" personal:"no"`
	Date     calendar.Date `json:"date"`
	Name     string        `json:"name" personal:"no"`
}

type Withdrawn struct {
	Calendar string        `json:"calendar,omitempty" personal:"no"`
	Date     calendar.Date `json:"date"`
	Name     string        `json:"name" personal:"no"`
}

func (Declared) EventName() string  { return "holiday.declared" }
func (Withdrawn) EventName() string { return "holiday.withdrawn" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any { return []any{Declared{}, Withdrawn{}} }

// Year is the state of one calendar's holidays of one year.
type Year struct {
	days calendar.Holidays
}

// Holidays returns a copy of the declared holidays.
func (c Year) Holidays() calendar.Holidays {
	out := make(calendar.Holidays, len(c.days))
	for d, name := range c.days {
		out[d] = name
	}
	return out
}

// Apply evolves the state by one event; events of other types are ignored.
func (c *Year) Apply(event any) {
	switch ev := event.(type) {
	case Declared:
		if c.days == nil {
			c.days = calendar.Holidays{}
		}
		c.days[ev.Date] = ev.Name
	case Withdrawn:
		delete(c.days, ev.Date)
	}
}

// Replay folds a stream's history into its state.
func Replay(history []any) Year {
	var c Year
	for _, ev := range history {
		c.Apply(ev)
	}
	return c
}

// Command is Declare or Withdraw.
type Command interface{ command() }

// Declare and Withdraw act on the holidays of Calendar, a calendar that
// exists (the application checks it against Calendars).
type Declare struct {
	Calendar string
	Date     calendar.Date
	Name     string
}

type Withdraw struct {
	Calendar string
	Date     calendar.Date
}

func (Declare) command()  {}
func (Withdraw) command() {}

const maxNameLen = 200

// Decide returns the events cmd causes on c, or why it is refused. Holidays
// carry no time of their own; now is taken for the shape all decisions share.
func Decide(c Year, cmd Command, _ time.Time) ([]any, error) {
	switch cmd := cmd.(type) {
	case Declare:
		name := strings.TrimSpace(cmd.Name)
		fields := map[string]string{}
		if !cmd.Date.Valid() {
			fields["date"] = "must be a valid date"
		}
		switch {
		case name == "":
			fields["name"] = "required"
		case utf8.RuneCountInString(name) > maxNameLen:
			fields["name"] = fmt.Sprintf("must be at most %d characters", maxNameLen)
		}
		if err := validation.Check(fields); err != nil {
			return nil, err
		}
		if c.days.Contains(cmd.Date) {
			return nil, ErrAlreadyDeclared
		}
		return []any{Declared{Calendar: CalendarCode(cmd.Calendar), Date: cmd.Date, Name: name}}, nil
	case Withdraw:
		name, ok := c.days[cmd.Date]
		if !ok {
			return nil, ErrNotDeclared
		}
		return []any{Withdrawn{Calendar: CalendarCode(cmd.Calendar), Date: cmd.Date, Name: name}}, nil
	default:
		return nil, fmt.Errorf("holiday: unknown command %T", cmd)
	}
}
