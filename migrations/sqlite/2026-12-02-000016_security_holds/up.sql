-- An email address changed by someone else signs nobody in until the hold has passed (SPEC §1):
-- the organization's hold, and the time each user's hold ends.
ALTER TABLE organizations ADD COLUMN email_change_hold_hours INTEGER NOT NULL DEFAULT 72;
ALTER TABLE users ADD COLUMN sign_in_hold_until TIMESTAMP;
-- Delivery lanes: mail, and one lane per webhook subscription, each with its own share of the
-- worker, so that a slow receiver holds up neither the mail nor other receivers. Rows queued
-- before this migration share the lane 'webhook'.
ALTER TABLE outbox ADD COLUMN lane TEXT NOT NULL DEFAULT 'mail';
UPDATE outbox SET lane = 'webhook' WHERE kind = 'webhook';
CREATE INDEX outbox_lane_idx ON outbox (lane, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
