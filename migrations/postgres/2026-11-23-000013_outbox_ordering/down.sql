DROP INDEX outbox_ordering_idx;
ALTER TABLE outbox DROP COLUMN ordering_key;
