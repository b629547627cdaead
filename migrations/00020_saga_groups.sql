-- +goose Up

-- The sagas of a stream category share one consumer group, sagas.<category>,
-- instead of one group each: a saga group starts where the slowest of the
-- groups it replaces stood, so no reaction is skipped (one reacted to again
-- appends nothing: its ids derive from its cause).
CREATE TEMPORARY TABLE retired_sagas (projection text PRIMARY KEY, grp text NOT NULL) ON COMMIT DROP;
INSERT INTO retired_sagas VALUES
	('saga.notify_lateness_on_checked_in', 'sagas.attendance'),
	('saga.notify_missing_checkout_on_auto_checked_out', 'sagas.attendance'),
	('saga.notify_manager_on_correction_requested', 'sagas.attendance'),
	('saga.notify_employee_on_correction_decided', 'sagas.attendance'),
	('saga.deduct_leave_on_late_check_in', 'sagas.attendance'),
	('saga.notify_low_balance_on_low_balance_reached', 'sagas.leave'),
	('saga.notify_manager_on_leave_requested', 'sagas.leave'),
	('saga.notify_approver_on_approval_chased', 'sagas.leave'),
	('saga.notify_employee_on_leave_decided', 'sagas.leave');

INSERT INTO projection_versions (projection, stream_id, version)
SELECT r.grp, v.stream_id, min(v.version)
FROM projection_versions v JOIN retired_sagas r USING (projection)
GROUP BY r.grp, v.stream_id
ON CONFLICT (projection, stream_id) DO NOTHING;

INSERT INTO projection_checkpoints (projection, partition, tx_id, position, updated_at)
SELECT DISTINCT ON (r.grp, c.partition) r.grp, c.partition, c.tx_id, c.position, now()
FROM projection_checkpoints c JOIN retired_sagas r USING (projection)
ORDER BY r.grp, c.partition, c.tx_id, c.position
ON CONFLICT (projection, partition) DO NOTHING;

DELETE FROM projection_versions WHERE projection IN (SELECT projection FROM retired_sagas);
DELETE FROM projection_checkpoints WHERE projection IN (SELECT projection FROM retired_sagas);

-- +goose Down
CREATE TEMPORARY TABLE retired_sagas (projection text PRIMARY KEY, grp text NOT NULL) ON COMMIT DROP;
INSERT INTO retired_sagas VALUES
	('saga.notify_lateness_on_checked_in', 'sagas.attendance'),
	('saga.notify_missing_checkout_on_auto_checked_out', 'sagas.attendance'),
	('saga.notify_manager_on_correction_requested', 'sagas.attendance'),
	('saga.notify_employee_on_correction_decided', 'sagas.attendance'),
	('saga.deduct_leave_on_late_check_in', 'sagas.attendance'),
	('saga.notify_low_balance_on_low_balance_reached', 'sagas.leave'),
	('saga.notify_manager_on_leave_requested', 'sagas.leave'),
	('saga.notify_approver_on_approval_chased', 'sagas.leave'),
	('saga.notify_employee_on_leave_decided', 'sagas.leave');

-- Each saga's own group starts where the group of its category stood.
INSERT INTO projection_versions (projection, stream_id, version)
SELECT r.projection, v.stream_id, v.version
FROM projection_versions v JOIN retired_sagas r ON r.grp = v.projection
ON CONFLICT (projection, stream_id) DO NOTHING;

INSERT INTO projection_checkpoints (projection, partition, tx_id, position, updated_at)
SELECT r.projection, c.partition, c.tx_id, c.position, now()
FROM projection_checkpoints c JOIN retired_sagas r ON r.grp = c.projection
ON CONFLICT (projection, partition) DO NOTHING;

DELETE FROM projection_versions WHERE projection IN ('sagas.attendance', 'sagas.leave');
DELETE FROM projection_checkpoints WHERE projection IN ('sagas.attendance', 'sagas.leave');
