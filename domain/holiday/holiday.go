// Package holiday keeps the company's public holidays, one stream per year
// (holidays-<year>), so declaring a date is checked against that year only.
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

// Category is the category of the holiday streams, one per year.
const Category = "holidays"

// Stream is the name of the stream holding a year's holidays.
func Stream(year int) string { return streamid.Of(Category, strconv.Itoa(year)) }

var (
	ErrAlreadyDeclared error = errkind.New(errkind.Conflict, "holiday already declared on that date")
	ErrNotDeclared     error = errkind.New(errkind.NotFound, "no holiday declared on that date")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

type Declared struct {
	Date calendar.Date `json:"date"`
	Name string        `json:"name" personal:"no"`
}

type Withdrawn struct {
	Date calendar.Date `json:"date"`
	Name string        `json:"name" personal:"no"`
}

func (Declared) EventName() string  { return "holiday.declared" }
func (Withdrawn) EventName() string { return "holiday.withdrawn" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any { return []any{Declared{}, Withdrawn{}} }

// Calendar is the state of one year's holidays.
type Calendar struct {
	days calendar.Holidays
}

// Holidays returns a copy of the declared holidays.
func (c Calendar) Holidays() calendar.Holidays {
	out := make(calendar.Holidays, len(c.days))
	for d, name := range c.days {
		out[d] = name
	}
	return out
}

// Apply evolves the state by one event; events of other types are ignored.
func (c *Calendar) Apply(event any) {
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
func Replay(history []any) Calendar {
	var c Calendar
	for _, ev := range history {
		c.Apply(ev)
	}
	return c
}

// Command is Declare or Withdraw.
type Command interface{ command() }

type Declare struct {
	Date calendar.Date
	Name string
}

type Withdraw struct {
	Date calendar.Date
}

func (Declare) command()  {}
func (Withdraw) command() {}

const maxNameLen = 200

// Decide returns the events cmd causes on c, or why it is refused. Holidays
// carry no time of their own; now is taken for the shape all decisions share.
func Decide(c Calendar, cmd Command, _ time.Time) ([]any, error) {
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
		return []any{Declared{Date: cmd.Date, Name: name}}, nil
	case Withdraw:
		name, ok := c.days[cmd.Date]
		if !ok {
			return nil, ErrNotDeclared
		}
		return []any{Withdrawn{Date: cmd.Date, Name: name}}, nil
	default:
		return nil, fmt.Errorf("holiday: unknown command %T", cmd)
	}
}
