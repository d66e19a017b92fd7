DROP INDEX sessions_minutes_idx;
