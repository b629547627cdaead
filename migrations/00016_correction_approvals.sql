-- +goose Up

-- Who holds the step a request waits on (docs/approvals.md), so that an
-- approver's list finds what waits on them with one indexed read: the step's
-- approver (null for the admins), whom it was routed to, and whom it was
-- escalated to. The rows already kept take them from their steps.
ALTER TABLE leave_approvals
    ADD COLUMN approver_id  uuid,
    ADD COLUMN routed_to    uuid,
    ADD COLUMN escalated_to uuid;
UPDATE leave_approvals SET
    approver_id  = NULLIF(steps->(awaited_step - 1)->>'approver_id', '')::uuid,
    routed_to    = NULLIF(steps->(awaited_step - 1)->>'routed_to', '')::uuid,
    escalated_to = NULLIF(steps->(awaited_step - 1)->>'escalated_to', '')::uuid
WHERE awaited_step IS NOT NULL;
CREATE INDEX leave_approvals_approver_idx ON leave_approvals (approver_id) WHERE awaited_step IS NOT NULL;
CREATE INDEX leave_approvals_routed_to_idx ON leave_approvals (routed_to) WHERE awaited_step IS NOT NULL;
CREATE INDEX leave_approvals_escalated_to_idx ON leave_approvals (escalated_to) WHERE awaited_step IS NOT NULL AND escalated;

-- The chain of each attendance correction filed with one, which the
-- projection "attendance" keeps beside the corrections, as leave_approvals
-- keeps a request's.
CREATE TABLE correction_approvals (
    correction_id  uuid PRIMARY KEY,
    employee_id    uuid NOT NULL,
    steps          jsonb NOT NULL,
    awaited_step   int,
    opened_at      timestamptz,
    reminded       boolean NOT NULL DEFAULT false,
    escalated      boolean NOT NULL DEFAULT false,
    approver_id    uuid,
    routed_to      uuid,
    escalated_to   uuid
);
CREATE INDEX correction_approvals_opened_at_idx ON correction_approvals (opened_at, correction_id)
    WHERE opened_at IS NOT NULL AND NOT (reminded AND escalated);
CREATE INDEX correction_approvals_approver_idx ON correction_approvals (approver_id) WHERE awaited_step IS NOT NULL;
CREATE INDEX correction_approvals_routed_to_idx ON correction_approvals (routed_to) WHERE awaited_step IS NOT NULL;
CREATE INDEX correction_approvals_escalated_to_idx ON correction_approvals (escalated_to) WHERE awaited_step IS NOT NULL AND escalated;

-- +goose Down
DROP TABLE IF EXISTS correction_approvals;
DROP INDEX IF EXISTS leave_approvals_escalated_to_idx;
DROP INDEX IF EXISTS leave_approvals_routed_to_idx;
DROP INDEX IF EXISTS leave_approvals_approver_idx;
ALTER TABLE leave_approvals DROP COLUMN IF EXISTS escalated_to, DROP COLUMN IF EXISTS routed_to, DROP COLUMN IF EXISTS approver_id;
