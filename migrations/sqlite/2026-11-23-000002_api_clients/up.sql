-- API clients: service accounts of HR systems, one organization each. The secret is kept only as
-- an argon2 hash.
CREATE TABLE api_clients (
    id                TEXT NOT NULL PRIMARY KEY,
    client_id         TEXT NOT NULL,
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    name              TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    secret_hash       TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP NOT NULL,
    revoked_at        TIMESTAMP,
    version           BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_clients_client_id_key ON api_clients (client_id);
CREATE INDEX api_clients_organization_idx ON api_clients (organization_id, id);
