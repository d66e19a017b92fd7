DROP TABLE instance_secrets;
DROP TRIGGER audit_events_no_update ON audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_events;
DROP TABLE users;
DROP TABLE organizations;
