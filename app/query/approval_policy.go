package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/approval"
)

// ApprovalPolicyHandler reads the company's approval policy from its stream.
type ApprovalPolicyHandler struct {
	store command.EventStore
}

// NewApprovalPolicyHandler returns the handler.
func NewApprovalPolicyHandler(store command.EventStore) ApprovalPolicyHandler {
	return ApprovalPolicyHandler{store: store}
}

// Handle returns the policy in force: the last set, or no rules.
func (h ApprovalPolicyHandler) Handle(ctx context.Context) (approval.Policy, error) {
	return command.LoadApprovalPolicy(ctx, h.store)
}
