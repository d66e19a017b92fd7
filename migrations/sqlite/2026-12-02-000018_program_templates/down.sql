ALTER TABLE sessions DROP COLUMN choice;
ALTER TABLE sessions DROP COLUMN plan_title;
ALTER TABLE sessions DROP COLUMN plan_index;
ALTER TABLE engagements DROP COLUMN template_version;
ALTER TABLE engagements DROP COLUMN template_id;
DROP TABLE program_template_versions;
DROP TABLE program_templates;
