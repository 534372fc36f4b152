-- Registry: org units, institutions, practitioners, residents; accounts and import runs.
CREATE TABLE orgunits (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_code TEXT,
    level       TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community')),
    valid_from  TEXT,
    valid_to    TEXT
);
CREATE INDEX orgunits_parent ON orgunits (parent_code, code);

CREATE TABLE institutions (
    id                      INTEGER PRIMARY KEY,
    code                    TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    kind                    TEXT NOT NULL,
    grade                   TEXT,
    community_code          TEXT NOT NULL REFERENCES orgunits (code),
    group_code              TEXT REFERENCES institutions (code),
    licence_no              TEXT,
    licence_status          TEXT NOT NULL,
    beds                    INTEGER NOT NULL DEFAULT 0,
    negative_pressure_rooms INTEGER NOT NULL DEFAULT 0,
    fever_clinic            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX institutions_community ON institutions (community_code, id);
CREATE INDEX institutions_group ON institutions (group_code);

CREATE TABLE practitioners (
    id               INTEGER PRIMARY KEY,
    id_type          TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    licence_no       TEXT,
    import_id        INTEGER
);
CREATE UNIQUE INDEX practitioners_identity ON practitioners (id_number, id_type);
CREATE INDEX practitioners_institution ON practitioners (institution_code, id);

CREATE TABLE residents (
    id             INTEGER PRIMARY KEY,
    id_type        TEXT NOT NULL,
    id_number      TEXT NOT NULL,
    name           TEXT NOT NULL,
    sex            TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date     TEXT NOT NULL,
    phone          TEXT,
    -- Checked by hc-app on every write path, not by a foreign key (as on PostgreSQL,
    -- where the per-row check halves bulk-load speed); org units are never deleted.
    community_code TEXT NOT NULL,
    residence      TEXT NOT NULL,
    import_id      INTEGER
);
CREATE UNIQUE INDEX residents_identity ON residents (id_number, id_type);
CREATE INDEX residents_community ON residents (community_code, id);
CREATE INDEX residents_name ON residents (name, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);

CREATE TABLE import_runs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    inserted   INTEGER NOT NULL DEFAULT 0,
    updated    INTEGER NOT NULL DEFAULT 0,
    unchanged  INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0
);
