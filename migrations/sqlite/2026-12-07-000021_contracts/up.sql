-- Coaching contracts (issue 24, docs/contracts.md): hours an organization bought for a period,
-- optionally from one provider and at a price per hour, and the programs drawing on them.
CREATE TABLE contracts (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    name             TEXT NOT NULL,
    provider         TEXT,
    start_date       DATE NOT NULL,
    end_date         DATE NOT NULL,
    bought_minutes   BIGINT NOT NULL,
    price_hundredths BIGINT,
    currency         TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX contracts_organization_idx ON contracts (organization_id, id);

ALTER TABLE engagements ADD COLUMN contract_id TEXT;
CREATE INDEX engagements_contract_idx ON engagements (contract_id, id) WHERE contract_id IS NOT NULL;
ALTER TABLE coaching_groups ADD COLUMN contract_id TEXT;
CREATE INDEX coaching_groups_contract_idx ON coaching_groups (contract_id, id) WHERE contract_id IS NOT NULL;

-- Whether programs may allocate more hours than their contract holds.
ALTER TABLE organizations ADD COLUMN allow_contract_overdraft INTEGER NOT NULL DEFAULT 0;

-- Days a program may stay in a phase before the reports flag it as stuck (phase name -> days).
ALTER TABLE organizations ADD COLUMN stuck_after_days TEXT NOT NULL DEFAULT '{"context":30,"leader_interview":30,"stakeholder_interviews":45,"assessment_design":30,"sponsor_review":30,"mid_review":30,"end_review":30,"on_hold":60}';
