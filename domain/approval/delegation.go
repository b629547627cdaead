package approval

import (
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// DelegationCategory is the category of the managers' delegation streams.
const DelegationCategory = "delegations"

// DelegationStream is the stream of the delegations a manager gave.
func DelegationStream(managerID string) string { return streamid.Of(DelegationCategory, managerID) }

// maxDelegationDays bounds a delegation's period: a year.
const maxDelegationDays = 366

var (
	ErrDelegationNotFound error = errkind.New(errkind.NotFound, "delegation not found")
	ErrDelegateIsManager  error = errkind.InvalidField("invalid input", "delegate_id", "must not be the manager delegating")
)

// Delegation lets DelegateID decide ManagerID's steps, and be told of them,
// from Start to End, both included, until it is revoked.
type Delegation struct {
	ID          string
	ManagerID   string
	DelegateID  string
	Start, End  calendar.Date
	DelegatedBy string
	DelegatedAt time.Time
	Revoked     bool
}

// Covers reports whether the delegation runs on day.
func (d Delegation) Covers(day calendar.Date) bool {
	return !d.Revoked && !day.Before(d.Start) && !day.After(d.End)
}

// Delegations are the delegations of one manager, in the order given.
type Delegations []Delegation

// Find returns the delegation with id.
func (ds Delegations) Find(id string) (Delegation, bool) {
	for _, d := range ds {
		if d.ID == id {
			return d, true
		}
	}
	return Delegation{}, false
}

// DelegatesOn are the delegates whose delegation covers day.
func (ds Delegations) DelegatesOn(day calendar.Date) []string {
	var out []string
	for _, d := range ds {
		if d.Covers(day) {
			out = append(out, d.DelegateID)
		}
	}
	return out
}

// Delegated starts a delegation.
type Delegated struct {
	DelegationID string        `json:"delegation_id" personal:"no"`
	ManagerID    string        `json:"manager_id" personal:"no"`
	DelegateID   string        `json:"delegate_id" personal:"no"`
	StartDate    calendar.Date `json:"start_date"`
	EndDate      calendar.Date `json:"end_date"`
	DelegatedBy  string        `json:"delegated_by" personal:"no"`
	DelegatedAt  time.Time     `json:"delegated_at"`
}

// DelegationRevoked ends a delegation before its end date.
type DelegationRevoked struct {
	DelegationID string    `json:"delegation_id" personal:"no"`
	ManagerID    string    `json:"manager_id" personal:"no"`
	RevokedBy    string    `json:"revoked_by" personal:"no"`
	RevokedAt    time.Time `json:"revoked_at"`
}

func (Delegated) EventName() string         { return "delegation.granted" }
func (DelegationRevoked) EventName() string { return "delegation.revoked" }

// Events lists a zero value of each event type of the package, for the codec
// registry.
func Events() []any { return []any{PolicySet{}, Delegated{}, DelegationRevoked{}} }

// Apply evolves the delegations by one event; other events are ignored.
func (ds *Delegations) Apply(event any) {
	switch ev := event.(type) {
	case Delegated:
		*ds = append(*ds, Delegation{
			ID: ev.DelegationID, ManagerID: ev.ManagerID, DelegateID: ev.DelegateID, Start: ev.StartDate, End: ev.EndDate,
			DelegatedBy: ev.DelegatedBy, DelegatedAt: ev.DelegatedAt,
		})
	case DelegationRevoked:
		for i := range *ds {
			if (*ds)[i].ID == ev.DelegationID {
				(*ds)[i].Revoked = true
			}
		}
	}
}

// ReplayDelegations folds a manager's delegation stream.
func ReplayDelegations(history []any) Delegations {
	var ds Delegations
	for _, ev := range history {
		ds.Apply(ev)
	}
	return ds
}

// Delegate is a new delegation of ManagerID's steps to DelegateID.
type Delegate struct {
	DelegationID, ManagerID, DelegateID string
	Start, End                          calendar.Date
	By                                  string
}

// Decide returns the events of a new delegation, or why it is refused. The
// same delegation again is already given: nothing.
func (ds Delegations) Decide(c Delegate, now time.Time) ([]any, error) {
	fields := map[string]string{}
	for name, id := range map[string]string{"delegation_id": c.DelegationID, "manager_id": c.ManagerID, "delegate_id": c.DelegateID} {
		if id == "" {
			fields[name] = "required"
		}
	}
	if !c.Start.Valid() {
		fields["start_date"] = "must be a valid date"
	}
	if !c.End.Valid() {
		fields["end_date"] = "must be a valid date"
	}
	if len(fields) == 0 {
		switch {
		case c.End.Before(c.Start):
			fields["end_date"] = "must not be before start_date"
		case c.Start.AddDays(maxDelegationDays).Before(c.End):
			fields["end_date"] = fmt.Sprintf("must be at most %d days after start_date", maxDelegationDays)
		}
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if c.DelegateID == c.ManagerID {
		return nil, ErrDelegateIsManager
	}
	if _, ok := ds.Find(c.DelegationID); ok {
		return nil, nil
	}
	return []any{Delegated{
		DelegationID: c.DelegationID, ManagerID: c.ManagerID, DelegateID: c.DelegateID, StartDate: c.Start, EndDate: c.End,
		DelegatedBy: c.By, DelegatedAt: now.UTC(),
	}}, nil
}

// Revoke returns the event that ends delegation id, or ErrDelegationNotFound
// for one unknown or already revoked.
func (ds Delegations) Revoke(id, by string, now time.Time) ([]any, error) {
	d, ok := ds.Find(id)
	if !ok || d.Revoked {
		return nil, ErrDelegationNotFound
	}
	return []any{DelegationRevoked{DelegationID: id, ManagerID: d.ManagerID, RevokedBy: by, RevokedAt: now.UTC()}}, nil
}
