-- Extensions (change orders): more hours for a month, optionally a later planned end.
CREATE TABLE extensions (
    id                   TEXT NOT NULL PRIMARY KEY,
    engagement_id        TEXT NOT NULL REFERENCES engagements (id),
    organization_id      TEXT NOT NULL,
    minutes              BIGINT NOT NULL,
    month                TEXT NOT NULL,
    new_planned_end_date DATE,
    reason               TEXT NOT NULL,
    status               TEXT NOT NULL,
    decided_by           TEXT,
    decision_comment     TEXT,
    requested_at         TIMESTAMP NOT NULL,
    decided_at           TIMESTAMP
);
CREATE INDEX extensions_engagement_idx ON extensions (engagement_id, id);
