ALTER TABLE organizations DROP COLUMN stuck_after_days;
ALTER TABLE organizations DROP COLUMN allow_contract_overdraft;
DROP INDEX coaching_groups_contract_idx;
ALTER TABLE coaching_groups DROP COLUMN contract_id;
DROP INDEX engagements_contract_idx;
ALTER TABLE engagements DROP COLUMN contract_id;
DROP TABLE contracts;
