-- Pages for people (issue 14): links in mails that sign a person in to the page where they act,
-- and the browser sessions they start.

-- A link from a mail: single use (used_at), valid until expires_at, for one person and one page
-- (target, a path of Keel's pages). Only the token's hash is kept.
CREATE TABLE page_links (
    token_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    organization_id TEXT COLLATE "C" REFERENCES organizations (id),
    engagement_id   TEXT COLLATE "C" REFERENCES engagements (id),
    target          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    used_at         TIMESTAMP
);
CREATE INDEX page_links_user_idx ON page_links (user_id);

-- A signed-in browser: the cookie carries the token, the row its hash, the person and the form
-- token (CSRF) of the session. Signing out deletes the row.
CREATE TABLE web_sessions (
    token_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    organization_id TEXT COLLATE "C" REFERENCES organizations (id),
    csrf_token      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
