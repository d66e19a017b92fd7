-- Foundation: tenants, users, the append-only audit log and instance-wide secrets.
-- Ids are UUIDv7 text; times are UTC `timestamp`; booleans are 0/1 integers (one schema for
-- PostgreSQL and SQLite through diesel's MultiConnection). Id columns use the "C" collation so
-- that keyset pagination compares them byte by byte, as SQLite does.

CREATE TABLE organizations (
    id                           TEXT COLLATE "C" PRIMARY KEY,
    name                         TEXT NOT NULL,
    min_raters                   INTEGER NOT NULL,
    default_monthly_hours_budget DOUBLE PRECISION NOT NULL,
    no_show_counts               INTEGER NOT NULL CHECK (no_show_counts IN (0, 1)),
    created_at                   TIMESTAMP NOT NULL,
    updated_at                   TIMESTAMP NOT NULL,
    version                      BIGINT NOT NULL
);

CREATE TABLE users (
    id               TEXT COLLATE "C" PRIMARY KEY,
    organization_id  TEXT COLLATE "C" REFERENCES organizations (id),
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name             TEXT NOT NULL,
    role_admin       INTEGER NOT NULL DEFAULT 0 CHECK (role_admin IN (0, 1)),
    role_hr_partner  INTEGER NOT NULL DEFAULT 0 CHECK (role_hr_partner IN (0, 1)),
    role_coach       INTEGER NOT NULL DEFAULT 0 CHECK (role_coach IN (0, 1)),
    status           TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    external_id      TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_organization_external_id_key ON users (organization_id, external_id);
CREATE INDEX users_organization_id_idx ON users (organization_id, id);

CREATE TABLE audit_events (
    id              TEXT COLLATE "C" PRIMARY KEY,
    occurred_at     TIMESTAMP NOT NULL,
    organization_id TEXT COLLATE "C",
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT COLLATE "C",
    action          TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT COLLATE "C" NOT NULL,
    request_id      TEXT NOT NULL,
    changed_fields  TEXT NOT NULL
);
CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, id);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, id);

-- The audit log is append-only: no code path may change or remove a record.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Secrets shared by every instance on this database (e.g. the pagination cursor key).
CREATE TABLE instance_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
