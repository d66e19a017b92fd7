-- Group and team coaching (issue 15, seed 002): cohorts and teams, who is in them and when,
-- their sessions with attendance, and each participant's own outcomes and action items.
CREATE TABLE coaching_groups (
    id                   TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    kind                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    coach_id             TEXT NOT NULL REFERENCES users (id),
    sponsor_id           TEXT NOT NULL REFERENCES users (id),
    hr_partner_id        TEXT REFERENCES users (id),
    team_leader_id       TEXT REFERENCES users (id),
    max_participants     INTEGER NOT NULL,
    monthly_hours_budget REAL NOT NULL,
    start_date           DATE NOT NULL,
    planned_end_date     DATE NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    version              BIGINT NOT NULL
);
CREATE INDEX coaching_groups_organization_idx ON coaching_groups (organization_id, id);
CREATE INDEX coaching_groups_coach_idx ON coaching_groups (coach_id, id);
CREATE INDEX coaching_groups_sponsor_idx ON coaching_groups (sponsor_id, id);

-- One person's time in a group: joining and leaving keep their history.
CREATE TABLE group_members (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES coaching_groups (id),
    organization_id TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id),
    joined_at       TIMESTAMP NOT NULL,
    left_at         TIMESTAMP
);
CREATE INDEX group_members_group_idx ON group_members (group_id, id);
CREATE INDEX group_members_user_idx ON group_members (user_id, group_id);

CREATE TABLE group_sessions (
    id               TEXT PRIMARY KEY,
    group_id         TEXT NOT NULL REFERENCES coaching_groups (id),
    organization_id  TEXT NOT NULL,
    scheduled_at     TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    format           TEXT NOT NULL,
    status           TEXT NOT NULL,
    agenda           TEXT,
    shared_summary   TEXT,
    private_notes    TEXT,
    notes_author     TEXT,
    status_reason    TEXT,
    completed_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX group_sessions_group_idx ON group_sessions (group_id, scheduled_at);

-- Who was there: every participant in the group when the session was completed.
CREATE TABLE group_attendance (
    session_id      TEXT NOT NULL REFERENCES group_sessions (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    organization_id TEXT NOT NULL,
    attended        BOOLEAN NOT NULL,
    PRIMARY KEY (session_id, user_id)
);

CREATE TABLE group_outcomes (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES coaching_groups (id),
    organization_id TEXT NOT NULL,
    participant_id  TEXT NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    measure         TEXT,
    baseline        TEXT,
    target          TEXT,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX group_outcomes_participant_idx ON group_outcomes (group_id, participant_id, id);

CREATE TABLE group_action_items (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES coaching_groups (id),
    organization_id TEXT NOT NULL,
    participant_id  TEXT NOT NULL REFERENCES users (id),
    session_id      TEXT REFERENCES group_sessions (id),
    title           TEXT NOT NULL,
    details         TEXT,
    due_date        DATE,
    status          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX group_action_items_participant_idx ON group_action_items (group_id, participant_id, id);
