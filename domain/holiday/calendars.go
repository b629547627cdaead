package holiday

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Default is the code of the calendar every company has without an event:
// the calendar of every holiday and employee recorded before there were
// calendars per place, and of every employee not given another.
const Default = "default"

// defaultName is the default calendar's name.
const defaultName = "Default"

// CalendarCode is the calendar a recorded code names: the default calendar
// for the empty code of older events.
func CalendarCode(recorded string) string {
	if recorded == "" {
		return Default
	}
	return recorded
}

// CalendarsCategory is the category of the company's stream of holiday
// calendars.
const CalendarsCategory = "holidaycalendars"

// CalendarsStream is the name of the company's stream of holiday calendars.
func CalendarsStream() string { return streamid.Of(CalendarsCategory, "company") }

// Calendar is the holiday calendar of a place.
type Calendar struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// CalendarDefined creates a holiday calendar, without holidays.
type CalendarDefined struct {
	Calendar  Calendar `json:"calendar" personal:"no"`
	DefinedBy string   `json:"defined_by" personal:"no"`
}

func (CalendarDefined) EventName() string { return "holiday_calendar.defined" }

// CalendarEvents lists a zero value of each event of the calendars stream,
// for the codec registry.
func CalendarEvents() []any { return []any{CalendarDefined{}} }

var (
	// ErrCalendarExists refuses a new calendar whose code is taken.
	ErrCalendarExists error = errkind.New(errkind.Conflict, "a holiday calendar with that code exists")
	// ErrUnknownCalendar answers a code no calendar has.
	ErrUnknownCalendar error = errkind.New(errkind.NotFound, "holiday calendar not found")
)

// Calendars are the company's holiday calendars, the default one first,
// then the others in the order they were made.
type Calendars struct {
	list []Calendar
}

// ReplayCalendars folds the calendars stream's history over the default
// calendar.
func ReplayCalendars(history []any) Calendars {
	c := Calendars{list: []Calendar{{Code: Default, Name: defaultName}}}
	for _, ev := range history {
		c.Apply(ev)
	}
	return c
}

// Apply evolves the calendars by one event; events of other types are
// ignored.
func (c *Calendars) Apply(event any) {
	if ev, ok := event.(CalendarDefined); ok {
		c.list = append(c.list, ev.Calendar)
	}
}

// All returns a copy of every calendar.
func (c Calendars) All() []Calendar { return append([]Calendar(nil), c.list...) }

// Has reports whether a calendar has code; the empty code is the default.
func (c Calendars) Has(code string) bool {
	_, ok := c.Get(code)
	return ok
}

// Get returns the calendar of code; the empty code is the default.
func (c Calendars) Get(code string) (Calendar, bool) {
	code = CalendarCode(code)
	for _, cal := range c.list {
		if cal.Code == code {
			return cal, true
		}
	}
	return Calendar{}, false
}

// DefineCalendar creates the calendar New, made by By.
type DefineCalendar struct {
	New Calendar
	By  string
}

// DecideCalendar returns the events cmd causes on c, or why it is refused.
// A definition carries no time of its own; now is taken for the shape all
// decisions share.
func DecideCalendar(c Calendars, cmd DefineCalendar, _ time.Time) ([]any, error) {
	cal := Calendar{Code: cmd.New.Code, Name: strings.TrimSpace(cmd.New.Name)}
	fields := map[string]string{}
	if msg := validation.CheckCode(cal.Code); msg != "" {
		fields["code"] = msg
	}
	switch {
	case cal.Name == "":
		fields["name"] = "required"
	case utf8.RuneCountInString(cal.Name) > maxNameLen:
		fields["name"] = fmt.Sprintf("must be at most %d characters", maxNameLen)
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if c.Has(cal.Code) {
		return nil, ErrCalendarExists
	}
	return []any{CalendarDefined{Calendar: cal, DefinedBy: cmd.By}}, nil
}
