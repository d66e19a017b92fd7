-- A person's calendar feed (docs/calendar.md): the address's secret, kept as its SHA-256 only.
-- One per person; rotating replaces the secret, revoking deletes the row.
CREATE TABLE calendar_feeds (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
