-- Accounts with scopes, lockout and a second factor; API tokens; break-the-glass grants;
-- the append-only audit trail (issue #5).

UPDATE users SET role = 'cdc_analyst' WHERE role = 'analyst';
UPDATE users SET role = 'family_doctor' WHERE role = 'clinician';
UPDATE users SET role = 'commission' WHERE role = 'viewer';

ALTER TABLE users ADD COLUMN scope_orgunit TEXT;
ALTER TABLE users ADD COLUMN scope_institution TEXT;
ALTER TABLE users ADD COLUMN resident_id BIGINT;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

-- Accounts from before roles had jurisdictions: passwords count from now (not from 1970, which
-- would force every one to change at once), and roles that must be limited to part of the
-- city are disabled: an administrator re-creates them with `healthcity user add … --scope`.
UPDATE users SET password_changed_at = CAST(extract(epoch FROM now()) AS BIGINT);
UPDATE users SET disabled = TRUE WHERE role IN ('district_bureau', 'institution_staff', 'family_doctor');

ALTER TABLE sessions ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client_addr TEXT;

CREATE TABLE api_tokens (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    token_hash        TEXT NOT NULL UNIQUE,
    role              TEXT NOT NULL,
    scope_orgunit     TEXT,
    scope_institution TEXT,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT,
    revoked_at        BIGINT,
    last_used_at      BIGINT
);

CREATE TABLE access_grants (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX access_grants_user ON access_grants (user_id, resident_id, expires_at);

CREATE TABLE audit_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    role        TEXT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    resident_id BIGINT,
    purpose     TEXT,
    client_addr TEXT,
    outcome     TEXT NOT NULL,
    flagged     BOOLEAN NOT NULL DEFAULT FALSE,
    detail      TEXT
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_resident ON audit_events (resident_id, id) WHERE resident_id IS NOT NULL;
CREATE INDEX audit_events_flagged ON audit_events (id) WHERE flagged;

CREATE TABLE audit_reviews (
    event_id    BIGINT PRIMARY KEY REFERENCES audit_events (id),
    reviewer    TEXT NOT NULL,
    reviewed_at BIGINT NOT NULL,
    note        TEXT NOT NULL
);

-- The trail is append-only for everyone who connects through the application: no UPDATE,
-- DELETE or TRUNCATE of an event or of its review.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_reviews_no_change BEFORE UPDATE OR DELETE ON audit_reviews
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_reviews_no_truncate BEFORE TRUNCATE ON audit_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
