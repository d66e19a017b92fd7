-- Idempotency keys: the first response to a POST, stored per (actor, key) for 24 hours. A row
-- without a status is a request still running.
CREATE TABLE idempotency_keys (
    actor        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         TEXT,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
