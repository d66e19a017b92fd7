-- Step 1 (context meeting, outcomes, measurements) and step 2 (leader interview).
CREATE TABLE context_meetings (
    engagement_id   TEXT NOT NULL PRIMARY KEY REFERENCES engagements (id),
    organization_id TEXT NOT NULL,
    met_on          DATE NOT NULL,
    attendees       TEXT NOT NULL,
    notes           TEXT NOT NULL,
    benchmarks      TEXT NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL
);

CREATE TABLE outcomes (
    id              TEXT NOT NULL PRIMARY KEY,
    engagement_id   TEXT NOT NULL REFERENCES engagements (id),
    organization_id TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT,
    measure         TEXT,
    baseline        TEXT,
    target          TEXT,
    unit            TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    version         BIGINT NOT NULL
);
CREATE INDEX outcomes_engagement_idx ON outcomes (engagement_id, id);

CREATE TABLE outcome_measurements (
    id              TEXT NOT NULL PRIMARY KEY,
    outcome_id      TEXT NOT NULL REFERENCES outcomes (id),
    engagement_id   TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    value           TEXT NOT NULL,
    note            TEXT,
    measured_at     TIMESTAMP NOT NULL,
    source          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX outcome_measurements_outcome_idx ON outcome_measurements (outcome_id, measured_at, id);

CREATE TABLE leader_interviews (
    engagement_id       TEXT NOT NULL PRIMARY KEY REFERENCES engagements (id),
    organization_id     TEXT NOT NULL,
    interviewed_on      DATE NOT NULL,
    commitments         TEXT,
    immediate_concerns  TEXT,
    common_breakdowns   TEXT,
    behaviours          TEXT,
    communication_style TEXT,
    promise_pattern     TEXT,
    notes               TEXT,
    updated_at          TIMESTAMP NOT NULL,
    version             BIGINT NOT NULL
);
