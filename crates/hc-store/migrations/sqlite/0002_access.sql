-- Accounts with scopes, lockout and a second factor; API tokens; break-the-glass grants;
-- the append-only audit trail (issue #5).

UPDATE users SET role = 'cdc_analyst' WHERE role = 'analyst';
UPDATE users SET role = 'family_doctor' WHERE role = 'clinician';
UPDATE users SET role = 'commission' WHERE role = 'viewer';

ALTER TABLE users ADD COLUMN scope_orgunit TEXT;
ALTER TABLE users ADD COLUMN scope_institution TEXT;
ALTER TABLE users ADD COLUMN resident_id INTEGER;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at INTEGER;

-- Accounts from before roles had jurisdictions: passwords count from now (not from 1970, which
-- would force every one to change at once), and roles that must be limited to part of the
-- city are disabled: an administrator re-creates them with `healthcity user add … --scope`.
UPDATE users SET password_changed_at = CAST(strftime('%s', 'now') AS INTEGER);
UPDATE users SET disabled = 1 WHERE role IN ('district_bureau', 'institution_staff', 'family_doctor');

ALTER TABLE sessions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client_addr TEXT;

CREATE TABLE api_tokens (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    token_hash        TEXT NOT NULL UNIQUE,
    role              TEXT NOT NULL,
    scope_orgunit     TEXT,
    scope_institution TEXT,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    revoked_at        INTEGER,
    last_used_at      INTEGER
);

CREATE TABLE access_grants (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    reason      TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX access_grants_user ON access_grants (user_id, resident_id, expires_at);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    resident_id INTEGER,
    purpose     TEXT,
    client_addr TEXT,
    outcome     TEXT NOT NULL,
    flagged     INTEGER NOT NULL DEFAULT 0,
    detail      TEXT
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_resident ON audit_events (resident_id, id) WHERE resident_id IS NOT NULL;
CREATE INDEX audit_events_flagged ON audit_events (id) WHERE flagged;

CREATE TABLE audit_reviews (
    event_id    INTEGER PRIMARY KEY REFERENCES audit_events (id),
    reviewer    TEXT NOT NULL,
    reviewed_at INTEGER NOT NULL,
    note        TEXT NOT NULL
);

-- The trail is append-only for everyone who connects through the application.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_reviews_no_update BEFORE UPDATE ON audit_reviews
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_reviews_no_delete BEFORE DELETE ON audit_reviews
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
