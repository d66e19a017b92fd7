-- Program templates (issue 15): an organization's copies of the built-in templates (the built-in
-- ones live in the code, with fixed ids), each version immutable; an engagement keeps the version
-- it was created with.
CREATE TABLE program_templates (
    id               TEXT COLLATE "C" PRIMARY KEY,
    organization_id  TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
    name             TEXT NOT NULL,
    description      TEXT,
    based_on_id      TEXT COLLATE "C",
    based_on_version BIGINT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX program_templates_organization_idx ON program_templates (organization_id, id);

-- Every version of an organization's template: its name and definition (JSON) as they were.
CREATE TABLE program_template_versions (
    template_id     TEXT COLLATE "C" NOT NULL REFERENCES program_templates (id),
    version         BIGINT NOT NULL,
    organization_id TEXT COLLATE "C" NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    definition      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (template_id, version)
);

-- Existing engagements ran the eight steps: the built-in executive template, version 1.
ALTER TABLE engagements ADD COLUMN template_id TEXT COLLATE "C" NOT NULL DEFAULT '00000000-0000-7000-8000-000000000001';
ALTER TABLE engagements ADD COLUMN template_version BIGINT NOT NULL DEFAULT 1;

-- A session that realizes one of the template's planned sessions, and the choice it recorded.
ALTER TABLE sessions ADD COLUMN plan_index INTEGER;
ALTER TABLE sessions ADD COLUMN plan_title TEXT;
ALTER TABLE sessions ADD COLUMN choice TEXT;
