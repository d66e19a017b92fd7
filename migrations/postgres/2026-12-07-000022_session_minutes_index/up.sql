-- The minutes the reports, the hr_partner's home and the contracts sum per engagement
-- (docs/reports.md), read from the index alone: a batch of 500 engagements is then summed
-- without visiting the sessions' rows, which are wide (the session's content).
CREATE INDEX sessions_minutes_idx ON sessions (engagement_id, status, scheduled_at) INCLUDE (duration_minutes);
