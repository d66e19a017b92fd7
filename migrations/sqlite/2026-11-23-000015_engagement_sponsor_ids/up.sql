-- The sponsors' ids on the engagement row itself (comma-separated), so that reading an engagement
-- or a page of them is one index lookup per row with no join or subquery. engagement_sponsors
-- stays the index for "engagements this user sponsors"; both are written in the same transaction.
ALTER TABLE engagements ADD COLUMN sponsor_ids TEXT NOT NULL DEFAULT '';
UPDATE engagements SET sponsor_ids = COALESCE(
    (SELECT group_concat(user_id, ',') FROM (SELECT s.user_id FROM engagement_sponsors s
     WHERE s.engagement_id = engagements.id ORDER BY s.user_id)), '');
