package command

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/validation"
)

// SetApprovalPolicy replaces the company's approval policy.
type SetApprovalPolicy struct {
	Actor  employee.Employee
	Origin Origin
	Policy approval.Policy
}

// SetApprovalPolicyHandler replaces the approval policy; requests filed
// after it follow it, those filed before keep their steps.
type SetApprovalPolicyHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewSetApprovalPolicyHandler returns the handler; policy gives the built-in
// leave types a rule may name.
func NewSetApprovalPolicyHandler(store EventStore, policy leave.Policy, now Now) SetApprovalPolicyHandler {
	return SetApprovalPolicyHandler{store: store, policy: policy, now: now}
}

// Handle sets the policy and returns it as recorded.
func (h SetApprovalPolicyHandler) Handle(ctx context.Context, cmd SetApprovalPolicy) (approval.Policy, error) {
	// The company's policy is no one's record: the actor acts on no one.
	if access.Scope(cmd.Actor, access.ApprovalPolicySet) == 0 {
		return approval.Policy{}, ErrForbidden
	}
	if err := cmd.Policy.Validate(); err != nil {
		return approval.Policy{}, err
	}
	types, err := LoadLeaveTypes(ctx, h.store, h.policy)
	if err != nil {
		return approval.Policy{}, err
	}
	fields := map[string]string{}
	for i, r := range cmd.Policy.Rules {
		if _, ok := types.Latest(r.LeaveType); r.LeaveType != "" && !ok {
			fields[fmt.Sprintf("rules[%d].leave_type", i)] = "must name a leave type"
		}
	}
	if err := validation.Check(fields); err != nil {
		return approval.Policy{}, err
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, approval.PolicyStream(), func([]any) ([]any, error) {
		return approval.SetPolicy(cmd.Policy, cmd.Actor.EmployeeID, at)
	})
	if err != nil {
		return approval.Policy{}, err
	}
	return approval.ReplayPolicy(d.after()), nil
}
