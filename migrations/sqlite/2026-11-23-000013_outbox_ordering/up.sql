-- Delivery order: messages with the same ordering key (an engagement) go out one at a time, in
-- the order they were queued.
ALTER TABLE outbox ADD COLUMN ordering_key TEXT;
CREATE INDEX outbox_ordering_idx ON outbox (ordering_key, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
