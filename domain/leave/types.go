package leave

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// TypesCategory is the category of the company's leave policy stream, which
// holds the leave types an admin created or changed. The built-in types are
// there from the start without an event.
const TypesCategory = "leavetypes"

// TypesStream is the name of the company's leave policy stream.
func TypesStream() string { return streamid.Of(TypesCategory, "company") }

// Accrual is how a leave type credits its days.
type Accrual string

const (
	// AccrualUpfront credits the days of a year on the first day of each
	// leave year of employment.
	AccrualUpfront Accrual = "upfront"
	// AccrualMonthly credits a twelfth of them on the first day of each month
	// of employment, the hire month included.
	AccrualMonthly Accrual = "monthly"
	// AccrualNone credits nothing: only adjustments.
	AccrualNone Accrual = "none"
)

// The codes of the built-in types.
const (
	TypeAnnual       = "annual"
	TypeSick         = "sick"
	TypeUnpaid       = "unpaid"
	TypeCompensatory = "compensatory"
)

// Type is the policy of one leave type.
type Type struct {
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	Paid    bool    `json:"paid"`
	Tracked bool    `json:"tracked"`
	Accrual Accrual `json:"accrual"`
	// PerYear is the leave credited over a year of employment.
	PerYear Amount `json:"per_year"`
	// CarryOverMax is the most of a year's remaining leave the next year
	// keeps; CarryOverExpiresMonths the month of the new year at whose end
	// the carried days lapse (0: never).
	CarryOverMax           Amount `json:"carry_over_max"`
	CarryOverExpiresMonths int    `json:"carry_over_expires_months"`
	HalfDays               bool   `json:"half_days"`
	Hours                  bool   `json:"hours"`
	PastRequests           bool   `json:"past_requests"`
	Active                 bool   `json:"active"`
}

// TypeDefined creates a leave type. Its policy covers every date, the past
// included.
type TypeDefined struct {
	Type      Type   `json:"type" personal:"no"`
	DefinedBy string `json:"defined_by" personal:"no"`
}

// TypeChanged replaces a type's policy from EffectiveFrom on; dates before
// it keep the policy in force then.
type TypeChanged struct {
	Type          Type          `json:"type" personal:"no"`
	EffectiveFrom calendar.Date `json:"effective_from"`
	ChangedBy     string        `json:"changed_by" personal:"no"`
}

func (TypeDefined) EventName() string { return "leave_type.defined" }
func (TypeChanged) EventName() string { return "leave_type.changed" }

// TypeEvents lists a zero value of each event of the policy stream, for the
// codec registry.
func TypeEvents() []any { return []any{TypeDefined{}, TypeChanged{}} }

// BuiltInTypes are the types every company has from the start; annual leave
// grants p's yearly days and carries over as p says.
func BuiltInTypes(p Policy) []Type {
	return []Type{
		{
			Code: TypeAnnual, Name: "Annual leave", Paid: true, Tracked: true, Accrual: AccrualUpfront,
			PerYear: Days(p.AnnualDays), CarryOverMax: Days(p.CarryOverMaxDays), CarryOverExpiresMonths: p.CarryOverExpiresMonths,
			HalfDays: true, PastRequests: true, Active: true,
		},
		{Code: TypeSick, Name: "Sick leave", Paid: true, Accrual: AccrualNone, HalfDays: true, PastRequests: true, Active: true},
		{Code: TypeUnpaid, Name: "Unpaid leave", Accrual: AccrualNone, Active: true},
		{Code: TypeCompensatory, Name: "Compensatory leave", Paid: true, Tracked: true, Accrual: AccrualNone, HalfDays: true, Hours: true, Active: true},
	}
}

// ErrTypeExists refuses a new type whose code is taken.
var ErrTypeExists error = errkind.New(errkind.Conflict, "a leave type with that code exists")

// ErrTypeNotFound answers a code no type has.
var ErrTypeNotFound error = errkind.New(errkind.NotFound, "leave type not found")

// typeVersion is a type's policy from a date on.
type typeVersion struct {
	from calendar.Date // zero: from the beginning
	typ  Type
}

// Types is the company's leave policy: every type, each with the policies it
// had and the date each took effect. Its map is shared between copies: fold
// with Apply or ReplayTypes, and treat a copy as read-only.
type Types struct {
	order    []string
	versions map[string][]typeVersion
}

// ReplayTypes folds the policy stream's history over the built-in types.
func ReplayTypes(p Policy, history []any) Types {
	t := Types{versions: map[string][]typeVersion{}}
	for _, typ := range BuiltInTypes(p) {
		t.add(typ)
	}
	for _, ev := range history {
		t.Apply(ev)
	}
	return t
}

func (t *Types) add(typ Type) {
	t.order = append(t.order, typ.Code)
	t.versions[typ.Code] = []typeVersion{{typ: typ}}
}

// Apply evolves the policy by one event; events of other types are ignored.
func (t *Types) Apply(event any) {
	switch ev := event.(type) {
	case TypeDefined:
		t.add(ev.Type)
	case TypeChanged:
		vs := t.versions[ev.Type.Code]
		// A second change on the same day replaces the first.
		if n := len(vs); n > 0 && vs[n-1].from == ev.EffectiveFrom {
			vs = vs[:n-1]
		}
		t.versions[ev.Type.Code] = append(vs, typeVersion{from: ev.EffectiveFrom, typ: ev.Type})
	}
}

// Current returns every type as it stands now, in the order they were made.
func (t Types) Current() []Type {
	out := make([]Type, len(t.order))
	for i, code := range t.order {
		vs := t.versions[code]
		out[i] = vs[len(vs)-1].typ
	}
	return out
}

// On returns the policy of the type code in force on date d.
func (t Types) On(code string, d calendar.Date) (Type, bool) {
	vs, ok := t.versions[code]
	if !ok {
		return Type{}, false
	}
	typ := vs[0].typ
	for _, v := range vs[1:] {
		if v.from.After(d) {
			break
		}
		typ = v.typ
	}
	return typ, true
}

// Latest returns the type code's newest policy.
func (t Types) Latest(code string) (Type, bool) {
	vs, ok := t.versions[code]
	if !ok {
		return Type{}, false
	}
	return vs[len(vs)-1].typ, true
}

// TypeChange is the fields a change of a type sets; nil leaves a field as it
// is.
type TypeChange struct {
	Name                   *string
	Paid                   *bool
	Tracked                *bool
	Accrual                *Accrual
	PerYear                *Amount
	CarryOverMax           *Amount
	CarryOverExpiresMonths *int
	HalfDays               *bool
	Hours                  *bool
	PastRequests           *bool
	Active                 *bool
}

// DefineType creates the type New.
type DefineType struct {
	New Type
	By  string
}

// ChangeType changes the type Code from On, the day of the change, forward.
type ChangeType struct {
	Code   string
	Change TypeChange
	On     calendar.Date
	By     string
}

// TypeCommand is DefineType or ChangeType.
type TypeCommand interface{ typeCommand() }

func (DefineType) typeCommand() {}
func (ChangeType) typeCommand() {}

const (
	maxTypeNameLen = 100
	maxPerYearDays = 366
	maxExpiryMonth = 12
)

// DecideType returns the events cmd causes on the policy t, or why it is
// refused.
func DecideType(t Types, cmd TypeCommand, _ time.Time) ([]any, error) {
	switch cmd := cmd.(type) {
	case DefineType:
		typ := cmd.New
		typ.Name = strings.TrimSpace(typ.Name)
		fields := map[string]string{}
		if msg := validation.CheckCode(typ.Code); msg != "" {
			fields["code"] = msg
		}
		checkType(fields, typ)
		if err := validation.Check(fields); err != nil {
			return nil, err
		}
		if _, ok := t.versions[typ.Code]; ok {
			return nil, ErrTypeExists
		}
		return []any{TypeDefined{Type: typ, DefinedBy: cmd.By}}, nil
	case ChangeType:
		before, ok := t.Latest(cmd.Code)
		if !ok {
			return nil, ErrTypeNotFound
		}
		after := cmd.Change.Apply(before)
		fields := map[string]string{}
		if !cmd.On.Valid() {
			fields["effective_from"] = "must be a valid date"
		}
		checkType(fields, after)
		if err := validation.Check(fields); err != nil {
			return nil, err
		}
		if after == before {
			return nil, nil
		}
		return []any{TypeChanged{Type: after, EffectiveFrom: cmd.On, ChangedBy: cmd.By}}, nil
	default:
		return nil, fmt.Errorf("leave: unknown type command %T", cmd)
	}
}

// Apply returns typ with the fields c sets.
func (c TypeChange) Apply(typ Type) Type {
	if c.Name != nil {
		typ.Name = strings.TrimSpace(*c.Name)
	}
	setIf(&typ.Paid, c.Paid)
	setIf(&typ.Tracked, c.Tracked)
	setIf(&typ.Accrual, c.Accrual)
	setIf(&typ.PerYear, c.PerYear)
	setIf(&typ.CarryOverMax, c.CarryOverMax)
	setIf(&typ.CarryOverExpiresMonths, c.CarryOverExpiresMonths)
	setIf(&typ.HalfDays, c.HalfDays)
	setIf(&typ.Hours, c.Hours)
	setIf(&typ.PastRequests, c.PastRequests)
	setIf(&typ.Active, c.Active)
	return typ
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// checkType names each field of typ out of bounds, by its name in the API.
func checkType(fields map[string]string, typ Type) {
	switch n := utf8.RuneCountInString(typ.Name); {
	case n == 0:
		fields["name"] = "required"
	case n > maxTypeNameLen:
		fields["name"] = fmt.Sprintf("must be at most %d characters", maxTypeNameLen)
	}
	if !slices.Contains([]Accrual{AccrualUpfront, AccrualMonthly, AccrualNone}, typ.Accrual) {
		fields["accrual"] = "must be upfront, monthly or none"
	}
	if typ.PerYear < 0 || typ.PerYear > Days(maxPerYearDays) {
		fields["days_per_year"] = fmt.Sprintf("must be between 0 and %d", maxPerYearDays)
	}
	if typ.CarryOverMax < 0 || typ.CarryOverMax > Days(maxPerYearDays) {
		fields["carry_over_max_days"] = fmt.Sprintf("must be between 0 and %d", maxPerYearDays)
	}
	if typ.CarryOverExpiresMonths < 0 || typ.CarryOverExpiresMonths > maxExpiryMonth {
		fields["carry_over_expires_months"] = fmt.Sprintf("must be between 0 and %d", maxExpiryMonth)
	}
	// Only a balance accrues or carries over.
	if !typ.Tracked && (typ.Accrual != AccrualNone || typ.PerYear != 0 || typ.CarryOverMax != 0) {
		fields["tracked"] = "an untracked type has accrual none, no days_per_year and no carry-over"
	}
}
