-- When each engagement entered its phase (the latest transition), read from the index alone by
-- the pipeline report and the hr_partner's home (docs/reports.md).
CREATE INDEX engagement_transitions_entered_idx ON engagement_transitions (engagement_id, occurred_at);
