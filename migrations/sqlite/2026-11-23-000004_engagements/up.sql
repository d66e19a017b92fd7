-- Engagements, their sponsors, the timeline of phase changes, and the domain events log.
CREATE TABLE engagements (
    id                   TEXT NOT NULL PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    title                TEXT NOT NULL,
    leader_id            TEXT NOT NULL REFERENCES users (id),
    coach_id             TEXT NOT NULL REFERENCES users (id),
    hr_partner_id        TEXT REFERENCES users (id),
    phase                TEXT NOT NULL,
    held_from            TEXT,
    start_date           DATE NOT NULL,
    planned_end_date     DATE NOT NULL,
    monthly_hours_budget REAL NOT NULL,
    renewed_from_id      TEXT REFERENCES engagements (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              BIGINT NOT NULL
);
CREATE INDEX engagements_organization_idx ON engagements (organization_id, id);
CREATE INDEX engagements_phase_idx ON engagements (organization_id, phase, id);
CREATE INDEX engagements_coach_idx ON engagements (coach_id, id);
CREATE INDEX engagements_leader_idx ON engagements (leader_id, id);

CREATE TABLE engagement_sponsors (
    engagement_id   TEXT NOT NULL REFERENCES engagements (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    organization_id TEXT NOT NULL,
    PRIMARY KEY (engagement_id, user_id)
);
CREATE INDEX engagement_sponsors_user_idx ON engagement_sponsors (user_id, engagement_id);

CREATE TABLE engagement_transitions (
    id              TEXT NOT NULL PRIMARY KEY,
    engagement_id   TEXT NOT NULL REFERENCES engagements (id),
    organization_id TEXT NOT NULL,
    from_phase      TEXT,
    to_phase        TEXT NOT NULL,
    reason          TEXT,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT,
    occurred_at     TIMESTAMP NOT NULL
);
CREATE INDEX engagement_transitions_engagement_idx ON engagement_transitions (engagement_id, id);

-- Domain events (SPEC §5), written in the transaction of the change; webhooks fan out from here.
CREATE TABLE events (
    id              TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL,
    engagement_id   TEXT,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL
);
CREATE INDEX events_organization_idx ON events (organization_id, id);
CREATE INDEX events_engagement_idx ON events (engagement_id, id);
