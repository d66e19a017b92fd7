-- Steps 4 and 5: versioned program designs and the decisions of leader and sponsors.
CREATE TABLE designs (
    engagement_id   TEXT COLLATE "C" NOT NULL REFERENCES engagements (id),
    organization_id TEXT COLLATE "C" NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    summary         TEXT NOT NULL,
    theme_ids       TEXT NOT NULL,
    outcome_ids     TEXT NOT NULL,
    items           TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    submitted_at    TIMESTAMP,
    revision        BIGINT NOT NULL,
    PRIMARY KEY (engagement_id, version)
);

CREATE TABLE design_decisions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    engagement_id   TEXT COLLATE "C" NOT NULL REFERENCES engagements (id),
    organization_id TEXT COLLATE "C" NOT NULL,
    design_version  INTEGER NOT NULL,
    approver_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    role            TEXT NOT NULL,
    verdict         TEXT NOT NULL,
    comment         TEXT,
    decided_at      TIMESTAMP NOT NULL
);
-- One decision per approver and version, even under concurrent requests.
CREATE UNIQUE INDEX design_decisions_once_key ON design_decisions (engagement_id, design_version, approver_id);
