-- Steps 7 and 8: the mid- and end-of-program reviews (one document each per engagement).
CREATE TABLE reviews (
    engagement_id   TEXT NOT NULL REFERENCES engagements (id),
    kind            TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    narrative       TEXT NOT NULL,
    outcomes        TEXT NOT NULL,
    program_changes TEXT,
    achievements    TEXT,
    next_step       TEXT,
    renewal         TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (engagement_id, kind)
);
