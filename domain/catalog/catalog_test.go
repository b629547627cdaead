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
	"employee.erased",
	"employee.holiday_calendar_changed",
	"holiday.declared", "holiday.withdrawn",
	"attendance.checked_in", "attendance.checked_out", "attendance.auto_checked_out",
	"attendance.correction_requested", "attendance.correction_approved", "attendance.correction_rejected",
	"attendance.correction_approvals_planned", "attendance.correction_step_opened", "attendance.correction_step_approved",
	"attendance.correction_reminded", "attendance.correction_escalated",
	"leave.granted", "leave.entitlement_set", "leave.requested", "leave.approved", "leave.rejected",
	"leave.cancelled", "leave.lateness_deducted", "leave.low_balance_reached", "leave.adjusted",
	"leave_type.defined", "leave_type.changed",
	"leave_block.added", "leave_block.removed",
	"notification.raised", "notification.read",
	"leave.approvals_planned", "leave.approval_step_opened", "leave.approval_step_approved", "leave.approval_reminded",
	"leave.approval_escalated", "approval.policy_set", "delegation.granted", "delegation.revoked",
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

// TestPersonalFieldsAreMarked fails for any field of any event that can hold
// text and whose personal tag does not say what it holds: personal data
// (personal:"yes", stored sealed under the subject's key and erased with it),
// the subject whose key that is (personal:"subject"), another person's data
// under their key (personal:"of:<field of their id>"), or nothing personal
// (personal:"no"). A new event's names, emails, reasons, notes and messages
// are thus sealed from the first append, or declared not personal in review.
func TestPersonalFieldsAreMarked(t *testing.T) {
	t.Parallel()
	for _, ev := range Events() {
		typ := reflect.TypeOf(ev)
		subjects, personal := 0, 0
		for i := range typ.NumField() {
			f := typ.Field(i)
			switch tag := f.Tag.Get("personal"); tag {
			case "subject":
				subjects++
			case "yes":
				personal++
			case "no":
			case "of:" + strings.TrimPrefix(tag, "of:"):
				// Another person's data, under the key of the person whose id
				// that field holds; NewCodec checks the field.
			case "":
				if holdsText(f.Type) {
					t.Errorf("%v.%s (%v) can hold text: tag it personal:\"yes\", \"subject\" or \"no\"", typ, f.Name, f.Type)
				}
			default:
				t.Errorf("%v.%s: personal tag %q, want yes, subject, of:<field> or no", typ, f.Name, tag)
			}
		}
		if personal > 0 && subjects != 1 || subjects > 1 {
			t.Errorf("%v: %d personal fields and %d subjects; personal fields need exactly one subject", typ, personal, subjects)
		}
	}
}

// holdsText says whether a value of typ can carry text: strings, named or not,
// and what contains them. Times and values that marshal themselves as text
// (dates) are figures, not text.
func holdsText(typ reflect.Type) bool {
	if typ == timeType || typ.Implements(textMarshalerType) {
		return false
	}
	switch typ.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Slice, reflect.Array, reflect.Pointer:
		return holdsText(typ.Elem())
	case reflect.Map:
		return holdsText(typ.Key()) || holdsText(typ.Elem())
	case reflect.Struct:
		for i := range typ.NumField() {
			if holdsText(typ.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

func TestHoldsText(t *testing.T) {
	t.Parallel()
	type role string
	for _, c := range []struct {
		v    any
		want bool
	}{
		{"", true}, {role(""), true}, {[]string{}, true}, {map[string]any{}, true}, {struct{ S string }{}, true},
		{0, false}, {false, false}, {time.Time{}, false}, {[]int{}, false}, {struct{ N int }{}, false},
	} {
		if got := holdsText(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("holdsText(%T) = %v, want %v", c.v, got, c.want)
		}
	}
}
