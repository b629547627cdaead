package catalog

import (
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wireNames is the published list. Events already stored carry these names,
// so changing one breaks every existing event store.
var wireNames = []string{
	"employee.registered", "employee.schedule_changed", "employee.manager_changed", "employee.role_changed",
	"employee.position_changed", "employee.deactivated", "employee.reactivated", "employee.password_changed",
	"employee.holiday_calendar_changed",
	"holiday.declared", "holiday.withdrawn",
	"attendance.checked_in", "attendance.checked_out", "attendance.auto_checked_out",
	"leave.granted", "leave.entitlement_set", "leave.requested", "leave.approved", "leave.rejected",
	"leave.cancelled", "leave.lateness_deducted", "leave.low_balance_reached",
	"leave_type.defined", "leave_type.changed",
	"notification.raised", "notification.read",
	"holiday_calendar.defined",
}

func TestEventNames(t *testing.T) {
	t.Parallel()
	var got []string
	for _, ev := range Events() {
		e, ok := ev.(Event)
		if !ok {
			t.Fatalf("%T has no EventName", ev)
		}
		if reflect.TypeOf(ev).Kind() != reflect.Struct {
			t.Errorf("%T: events are listed as struct values", ev)
		}
		got = append(got, e.EventName())
	}
	if diff := cmp.Diff(wireNames, got); diff != "" {
		t.Errorf("wire names (-want +got):\n%s", diff)
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

var (
	timeType          = reflect.TypeFor[time.Time]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// TestJSONTags checks that every field of every event, nested structs
// included, has an explicit snake_case JSON name.
func TestJSONTags(t *testing.T) {
	t.Parallel()
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if !snakeCase.MatchString(name) {
				t.Errorf("%s.%s: json tag %q is not snake_case", path, f.Name, tag)
			}
			ft := f.Type
			for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType && !ft.Implements(textMarshalerType) {
				check(path+"."+f.Name, ft)
			}
		}
	}
	for _, ev := range Events() {
		check(reflect.TypeOf(ev).String(), reflect.TypeOf(ev))
	}
}

func TestZeroValuesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ev := range Events() {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Errorf("%T: %v", ev, err)
			continue
		}
		back := reflect.New(reflect.TypeOf(ev))
		if err := json.Unmarshal(b, back.Interface()); err != nil {
			t.Errorf("%T: decoding %s: %v", ev, b, err)
			continue
		}
		if diff := cmp.Diff(ev, back.Elem().Interface()); diff != "" {
			t.Errorf("%T round trip (-want +got):\n%s", ev, diff)
		}
	}
}
