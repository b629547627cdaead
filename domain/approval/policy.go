package approval

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// PolicyCategory is the category of the company's approval policy stream.
const PolicyCategory = "approvalpolicy"

// PolicyStream is the one stream of the approval policy.
func PolicyStream() string { return streamid.Of(PolicyCategory, "company") }

// Role is who approves a step, relative to the employee whose request it is.
type Role string

const (
	RoleManager       Role = "manager"        // the employee's manager
	RoleSecondManager Role = "second_manager" // that manager's manager
	RoleAdmin         Role = "admin"          // any admin
)

// Roles are the roles a step may name.
var Roles = []Role{RoleManager, RoleSecondManager, RoleAdmin}

// Subject is what a rule applies to.
type Subject string

const (
	SubjectLeave      Subject = "leave"      // leave requests: a rule's default
	SubjectCorrection Subject = "correction" // attendance corrections
)

// Rule gives the steps of the requests it matches: of AppliesTo (leave
// requests when empty), and for leave requests of LeaveType (any type when
// empty) and at least MinDays long. A rule for corrections names neither.
type Rule struct {
	AppliesTo Subject `json:"applies_to,omitempty"`
	LeaveType string  `json:"leave_type,omitempty"`
	MinDays   float64 `json:"min_days,omitempty"`
	Steps     []Role  `json:"steps"`
}

// ForCorrections reports whether the rule applies to attendance corrections.
func (r Rule) ForCorrections() bool { return r.AppliesTo == SubjectCorrection }

// Matches reports whether the rule applies to a leave request of leaveType
// and days.
func (r Rule) Matches(leaveType string, days float64) bool {
	return !r.ForCorrections() && (r.LeaveType == "" || r.LeaveType == leaveType) && days >= r.MinDays
}

// Policy is the company's rules, tried in order.
type Policy struct {
	Rules []Rule `json:"rules"`
}

// DefaultSteps are the steps of a request no rule matches.
var DefaultSteps = []Role{RoleManager}

// Steps are the steps of a leave request of leaveType and days: the first
// matching rule's, else one manager step.
func (p Policy) Steps(leaveType string, days float64) []Role {
	for _, r := range p.Rules {
		if r.Matches(leaveType, days) {
			return slices.Clone(r.Steps)
		}
	}
	return slices.Clone(DefaultSteps)
}

// CorrectionSteps are the steps of an attendance correction: the first rule
// for corrections gives them; without one (ok false) a correction has no
// chain and is decided in one step by the employee's manager or an admin.
func (p Policy) CorrectionSteps() (steps []Role, ok bool) {
	for _, r := range p.Rules {
		if r.ForCorrections() {
			return slices.Clone(r.Steps), true
		}
	}
	return nil, false
}

// FirstRoles are the roles the first step of a leave request may have under
// the policy, so that a filing resolves only the approvers it may need.
func (p Policy) FirstRoles() []Role {
	out := []Role{DefaultSteps[0]}
	for _, r := range p.Rules {
		if len(r.Steps) > 0 && !r.ForCorrections() && !slices.Contains(out, r.Steps[0]) {
			out = append(out, r.Steps[0])
		}
	}
	return out
}

// Limits of a policy, which keep one event and every filing's scan small.
const (
	MaxRules   = 50
	MaxSteps   = 5
	maxMinDays = 366
)

var typeCode = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// Validate names each field of the policy that is wrong.
func (p Policy) Validate() error {
	fields := map[string]string{}
	if len(p.Rules) > MaxRules {
		fields["rules"] = fmt.Sprintf("must have at most %d rules", MaxRules)
	}
	for i, r := range p.Rules {
		at := fmt.Sprintf("rules[%d].", i)
		if r.LeaveType != "" && !typeCode.MatchString(r.LeaveType) {
			fields[at+"leave_type"] = "must be a leave type code"
		}
		if math.IsNaN(r.MinDays) || r.MinDays < 0 || r.MinDays > maxMinDays {
			fields[at+"min_days"] = fmt.Sprintf("must be between 0 and %d", maxMinDays)
		}
		switch r.AppliesTo {
		case "", SubjectLeave:
		case SubjectCorrection:
			if r.LeaveType != "" {
				fields[at+"leave_type"] = "must be left out of a rule for corrections"
			}
			if r.MinDays != 0 {
				fields[at+"min_days"] = "must be left out of a rule for corrections"
			}
		default:
			fields[at+"applies_to"] = "must be leave or correction"
		}
		switch {
		case len(r.Steps) == 0:
			fields[at+"steps"] = "must name at least one step"
		case len(r.Steps) > MaxSteps:
			fields[at+"steps"] = fmt.Sprintf("must name at most %d steps", MaxSteps)
		}
		for j, s := range r.Steps {
			switch {
			case !slices.Contains(Roles, s):
				fields[fmt.Sprintf("%ssteps[%d]", at, j)] = "must be manager, second_manager or admin"
			case slices.Contains(r.Steps[:j], s):
				fields[fmt.Sprintf("%ssteps[%d]", at, j)] = "must not repeat a step"
			}
		}
	}
	return validation.Check(fields)
}

// PolicySet replaces the approval policy; requests filed after it follow it.
type PolicySet struct {
	Rules []Rule    `json:"rules" personal:"no"`
	SetBy string    `json:"set_by" personal:"no"`
	SetAt time.Time `json:"set_at"`
}

func (PolicySet) EventName() string { return "approval.policy_set" }

// ReplayPolicy folds the policy stream: the last policy set, or none.
func ReplayPolicy(history []any) Policy {
	var p Policy
	for _, ev := range history {
		if s, ok := ev.(PolicySet); ok {
			p = Policy{Rules: s.Rules}
		}
	}
	return p
}

// SetPolicy decides a new policy set by actor at now.
func SetPolicy(p Policy, by string, now time.Time) ([]any, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	rules := p.Rules
	if rules == nil {
		rules = []Rule{}
	}
	return []any{PolicySet{Rules: rules, SetBy: by, SetAt: now.UTC()}}, nil
}
