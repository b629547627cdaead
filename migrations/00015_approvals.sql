-- +goose Up

-- Approval chains (docs/approvals.md). A delegation is found by its id when
-- it is revoked.
CREATE INDEX events_delegation_idx ON events ((data->>'delegation_id')) WHERE type = 'delegation.granted';

-- The chain of each request filed with one (projection "approvals"): its
-- steps as JSON, and of the step it waits on, when it opened and whether it
-- was reminded and escalated, so that any instance finds the steps owed a
-- reminder or an escalation with one indexed range read.
CREATE TABLE leave_approvals (
    request_id     uuid PRIMARY KEY,
    employee_id    uuid NOT NULL,
    steps          jsonb NOT NULL,
    awaited_step   int,
    opened_at      timestamptz,
    reminded       boolean NOT NULL DEFAULT false,
    escalated      boolean NOT NULL DEFAULT false
);
CREATE INDEX leave_approvals_opened_at_idx ON leave_approvals (opened_at, request_id)
    WHERE opened_at IS NOT NULL AND NOT (reminded AND escalated);

-- The delegations of every manager (projection "delegations").
CREATE TABLE delegations (
    id           uuid PRIMARY KEY,
    manager_id   uuid NOT NULL,
    delegate_id  uuid NOT NULL,
    start_date   date NOT NULL,
    end_date     date NOT NULL,
    delegated_by uuid NOT NULL,
    delegated_at timestamptz NOT NULL,
    revoked      boolean NOT NULL
);
CREATE INDEX delegations_manager_idx ON delegations (manager_id, id);
CREATE INDEX delegations_delegate_idx ON delegations (delegate_id, id);

-- +goose Down
DROP TABLE IF EXISTS delegations;
DROP TABLE IF EXISTS leave_approvals;
DROP INDEX IF EXISTS events_delegation_idx;
