-- Action items (homework) set by the coach, owned by the leader.
CREATE TABLE action_items (
    id              TEXT COLLATE "C" PRIMARY KEY,
    engagement_id   TEXT COLLATE "C" NOT NULL REFERENCES engagements (id),
    organization_id TEXT COLLATE "C" NOT NULL,
    session_id      TEXT COLLATE "C" REFERENCES sessions (id),
    title           TEXT NOT NULL,
    details         TEXT,
    due_date        DATE,
    status          TEXT NOT NULL,
    leader_note     TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX action_items_engagement_idx ON action_items (engagement_id, id);
