DROP INDEX outbox_lane_idx;
ALTER TABLE outbox DROP COLUMN lane;
ALTER TABLE users DROP COLUMN sign_in_hold_until;
ALTER TABLE organizations DROP COLUMN email_change_hold_hours;
