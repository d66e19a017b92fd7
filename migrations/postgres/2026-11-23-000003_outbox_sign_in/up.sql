-- The transactional outbox: messages written in the same transaction as the change that causes
-- them, delivered afterwards by a worker with retries. Claimed rows carry `locked_until`.
CREATE TABLE outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    kind            TEXT NOT NULL,
    organization_id TEXT COLLATE "C",
    payload         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    available_at    TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT,
    locked_until    TIMESTAMP,
    delivered_at    TIMESTAMP,
    failed_at       TIMESTAMP
);
CREATE INDEX outbox_pending_idx ON outbox (available_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- One-time sign-in tokens, stored as SHA-256 hashes.
CREATE TABLE sign_in_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX sign_in_tokens_user_idx ON sign_in_tokens (user_id);
