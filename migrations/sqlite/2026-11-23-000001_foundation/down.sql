DROP TABLE instance_secrets;
DROP TRIGGER audit_events_no_delete;
DROP TRIGGER audit_events_no_update;
DROP TABLE audit_events;
DROP TABLE users;
DROP TABLE organizations;
