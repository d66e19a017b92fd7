-- A program's parts are read by engagement (the coach's workspace and home, repo::parts): the two
-- tables that were only reachable through another key get an index by engagement.
CREATE INDEX rater_invitations_engagement_idx ON rater_invitations (engagement_id, rater_id);
CREATE INDEX outcome_measurements_engagement_idx ON outcome_measurements (engagement_id, measured_at, id);
