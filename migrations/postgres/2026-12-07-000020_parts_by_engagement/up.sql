-- A program's parts are read by engagement (the coach's workspace and home, repo::parts): the two
-- tables that were only reachable through another key get an index by engagement.
CREATE INDEX rater_invitations_engagement_idx ON rater_invitations (engagement_id, rater_id);
CREATE INDEX outcome_measurements_engagement_idx ON outcome_measurements (engagement_id, measured_at, id);
-- The sessions still to be held, by engagement and time: what the coach's next thing looks at.
CREATE INDEX sessions_open_idx ON sessions (engagement_id, scheduled_at, id)
    WHERE status IN ('requested', 'proposed', 'scheduled');
