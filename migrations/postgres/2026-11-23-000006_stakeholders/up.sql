-- Step 3: raters (360 stakeholders), the coach's interviews with them, their written feedback
-- through one-time links (stored as hashes), and the coach's anonymised themes.
CREATE TABLE raters (
    id              TEXT COLLATE "C" PRIMARY KEY,
    engagement_id   TEXT COLLATE "C" NOT NULL REFERENCES engagements (id),
    organization_id TEXT COLLATE "C" NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT,
    relationship    TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    version         BIGINT NOT NULL
);
CREATE INDEX raters_engagement_idx ON raters (engagement_id, id);

CREATE TABLE rater_interviews (
    rater_id        TEXT COLLATE "C" PRIMARY KEY REFERENCES raters (id),
    engagement_id   TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    interviewed_on  DATE NOT NULL,
    notes           TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);

CREATE TABLE rater_feedback (
    rater_id          TEXT COLLATE "C" PRIMARY KEY REFERENCES raters (id),
    engagement_id     TEXT COLLATE "C" NOT NULL,
    organization_id   TEXT COLLATE "C" NOT NULL,
    strengths         TEXT NOT NULL,
    development_areas TEXT NOT NULL,
    comments          TEXT,
    submitted_at      TIMESTAMP NOT NULL
);

CREATE TABLE rater_invitations (
    token_hash      TEXT COLLATE "C" PRIMARY KEY,
    rater_id        TEXT COLLATE "C" NOT NULL REFERENCES raters (id),
    engagement_id   TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP
);
CREATE INDEX rater_invitations_rater_idx ON rater_invitations (rater_id);

CREATE TABLE themes (
    id              TEXT COLLATE "C" PRIMARY KEY,
    engagement_id   TEXT COLLATE "C" NOT NULL REFERENCES engagements (id),
    organization_id TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT,
    released_at     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    version         BIGINT NOT NULL
);
CREATE INDEX themes_engagement_idx ON themes (engagement_id, id);
