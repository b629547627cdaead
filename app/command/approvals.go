package command

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// LoadApprovalPolicy returns the company's approval policy: the last one set,
// or none (every request then has one manager step).
func LoadApprovalPolicy(ctx context.Context, store EventStore) (approval.Policy, error) {
	history, err := loadPayloads(ctx, store, approval.PolicyStream())
	if err != nil {
		return approval.Policy{}, err
	}
	return approval.ReplayPolicy(history), nil
}

// LoadDelegations returns the delegations a manager gave.
func LoadDelegations(ctx context.Context, store EventStore, managerID string) (approval.Delegations, error) {
	history, err := loadPayloads(ctx, store, approval.DelegationStream(managerID))
	if err != nil {
		return nil, err
	}
	return approval.ReplayDelegations(history), nil
}

// approverOf is who a step of role approves for owner: their manager, that
// manager's manager, or "" for the admins (also when there is no such
// manager).
func approverOf(ctx context.Context, store EventStore, owner employee.Employee, role approval.Role) (string, error) {
	switch role {
	case approval.RoleManager:
		return owner.ManagerID, nil
	case approval.RoleSecondManager:
		if owner.ManagerID == "" {
			return "", nil
		}
		m, err := LoadEmployee(ctx, store, owner.ManagerID)
		if errors.Is(err, employee.ErrNotFound) {
			return "", nil
		}
		return m.ManagerID, err
	}
	return "", nil
}

// assign is who a step of role waits on for owner at now: its approver, or
// their manager while they are on approved leave today with no delegation
// covering today.
func assign(ctx context.Context, store EventStore, owner employee.Employee, role approval.Role, now time.Time) (approval.Assignment, error) {
	approverID, err := approverOf(ctx, store, owner, role)
	if err != nil || approverID == "" {
		return approval.Assignment{}, err
	}
	approver, err := LoadEmployee(ctx, store, approverID)
	if errors.Is(err, employee.ErrNotFound) {
		return approval.Assignment{}, nil
	}
	if err != nil {
		return approval.Assignment{}, err
	}
	today := approver.Schedule.Today(now)
	history, err := loadPayloads(ctx, store, leave.Stream(approverID))
	if err != nil {
		return approval.Assignment{}, err
	}
	delegations, err := LoadDelegations(ctx, store, approverID)
	if err != nil {
		return approval.Assignment{}, err
	}
	return approval.Assign(approverID, approval.Absence{
		OnLeave: leave.Replay(history).OnLeave(today), Covered: len(delegations.DelegatesOn(today)) > 0, ManagerID: approver.ManagerID,
	}), nil
}

// firstApprovers resolves, for each role a first step may have under policy,
// who it would wait on for owner at now.
func firstApprovers(ctx context.Context, store EventStore, owner employee.Employee, policy approval.Policy, now time.Time) (map[approval.Role]approval.Assignment, error) {
	out := map[approval.Role]approval.Assignment{}
	for _, role := range policy.FirstRoles() {
		a, err := assign(ctx, store, owner, role, now)
		if err != nil {
			return nil, err
		}
		out[role] = a
	}
	return out, nil
}

// stepsMet is a request's chain (a leave request's or a correction's) as an
// actor meets it: the step it waits on, whether the actor holds that step,
// and whether the chain names them (as approver, routed or escalated to, or
// decider).
type stepsMet struct {
	owner        employee.Employee
	awaited      approval.Step
	awaiting     bool
	holds, named bool
}

// meetSteps is owner's request of chain as actor meets it at now.
func meetSteps(ctx context.Context, store EventStore, actor, owner employee.Employee, chain approval.Chain, now time.Time) (stepsMet, error) {
	m := stepsMet{owner: owner}
	m.awaited, m.awaiting = chain.Awaiting()
	var err error
	if m.holds, err = holds(ctx, store, actor, owner, m.awaited, now); err != nil {
		return stepsMet{}, err
	}
	m.named = slices.ContainsFunc(chain.Steps, func(s approval.Step) bool {
		return slices.Contains([]string{s.ApproverID, s.RoutedTo, s.EscalatedTo, s.DecidedBy}, actor.EmployeeID)
	})
	return m, nil
}

// visibleTo reports whether actor sees the request: they may read its
// employee, hold its awaited step or are named in its chain.
func (m stepsMet) visibleTo(actor employee.Employee) bool {
	return m.holds || m.named || access.Allowed(actor, access.EmployeeRead, access.RelationOf(actor, m.owner))
}

// chainedRequest is a leave request with the chain as an actor meets it.
type chainedRequest struct {
	leave.RequestState
	stepsMet
}

// loadChained loads request id for actor. A request of someone the actor may
// not read is unknown, unless the actor holds its awaited step or is named
// in its chain.
func loadChained(ctx context.Context, store EventStore, requests LeaveRequests, actor employee.Employee, id string, now time.Time) (chainedRequest, error) {
	ownerID, err := LeaveOwner(ctx, requests, id)
	if err != nil {
		return chainedRequest{}, err
	}
	owner := actor
	if ownerID != actor.EmployeeID {
		if owner, err = LoadEmployee(ctx, store, ownerID); err != nil {
			return chainedRequest{}, err
		}
	}
	history, err := loadPayloads(ctx, store, leave.Stream(ownerID))
	if err != nil {
		return chainedRequest{}, err
	}
	r, ok := leave.Replay(history).Request(id)
	if !ok {
		return chainedRequest{}, leave.ErrRequestNotFound
	}
	steps := slices.Clone(r.Approvals.Steps)
	if len(steps) == 1 && steps[0].OpenedAt.IsZero() {
		// Filed before chains: its one step is the manager's, as it was.
		steps[0].ApproverID = owner.ManagerID
	}
	met, err := meetSteps(ctx, store, actor, owner, approval.Chain{Steps: steps}, now)
	if err != nil {
		return chainedRequest{}, err
	}
	if !met.visibleTo(actor) {
		return chainedRequest{}, leave.ErrRequestNotFound
	}
	return chainedRequest{RequestState: r, stepsMet: met}, nil
}

// holds reports whether actor holds step, a step of owner's request, at now.
// Nobody holds a step of their own request.
func holds(ctx context.Context, store EventStore, actor, owner employee.Employee, step approval.Step, now time.Time) (bool, error) {
	if actor.EmployeeID == owner.EmployeeID || step.Status != approval.StatusPending {
		return false, nil
	}
	today := actor.Schedule.Today(now)
	if step.HeldBy(actor.EmployeeID, nil, today) {
		return true, nil
	}
	if step.ApproverID == "" {
		return false, nil
	}
	delegations, err := LoadDelegations(ctx, store, step.ApproverID)
	if err != nil {
		return false, err
	}
	return step.HeldBy(actor.EmployeeID, delegations, today), nil
}

// relationToStep is actor's relationship to the request for deciding it:
// Approver when they hold its awaited step (or, once it was decided, when its
// chain named them, who then hear that it is not pending), else their
// relationship to its employee, in which being the employee's manager counts
// for nothing: along a chain, only holding the step decides it.
func (m stepsMet) relationToStep(actor employee.Employee) access.Relationship {
	if m.holds || (!m.awaiting && m.named && actor.EmployeeID != m.owner.EmployeeID) {
		return access.Approver
	}
	if rel := access.RelationOf(actor, m.owner); rel != access.Report {
		return rel
	}
	return access.Other
}

// LeaveRequestFor returns request id as actor may see it: unknown when they
// may not read its employee, unless its chain names them or waits on them.
func LeaveRequestFor(ctx context.Context, store EventStore, requests LeaveRequests, actor employee.Employee, id string, now time.Time) (leave.RequestState, error) {
	cr, err := loadChained(ctx, store, requests, actor, id, now)
	return cr.RequestState, err
}
