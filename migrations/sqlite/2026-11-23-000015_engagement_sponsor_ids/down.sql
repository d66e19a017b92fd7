ALTER TABLE engagements DROP COLUMN sponsor_ids;
