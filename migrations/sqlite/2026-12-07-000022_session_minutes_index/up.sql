-- The minutes the reports, the hr_partner's home and the contracts sum per engagement
-- (docs/reports.md), read from the index alone (SQLite has no INCLUDE: the minutes are the
-- last key column).
CREATE INDEX sessions_minutes_idx ON sessions (engagement_id, status, scheduled_at, duration_minutes);
