-- Registry: org units, institutions, practitioners, residents; accounts and import runs.
-- Codes use the "C" collation so that subtree filters by code range follow byte order.
CREATE TABLE orgunits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        TEXT COLLATE "C" NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    parent_code TEXT COLLATE "C",
    level       TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community')),
    valid_from  DATE,
    valid_to    DATE
);
CREATE INDEX orgunits_parent ON orgunits (parent_code, code);

CREATE TABLE institutions (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                    TEXT COLLATE "C" NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    kind                    TEXT NOT NULL,
    grade                   TEXT,
    community_code          TEXT COLLATE "C" NOT NULL REFERENCES orgunits (code),
    group_code              TEXT COLLATE "C" REFERENCES institutions (code),
    licence_no              TEXT,
    licence_status          TEXT NOT NULL,
    beds                    BIGINT NOT NULL DEFAULT 0,
    negative_pressure_rooms BIGINT NOT NULL DEFAULT 0,
    fever_clinic            BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX institutions_community ON institutions (community_code, id);
CREATE INDEX institutions_group ON institutions (group_code);

CREATE TABLE practitioners (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_type          TEXT NOT NULL,
    id_number        TEXT COLLATE "C" NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    institution_code TEXT COLLATE "C" NOT NULL REFERENCES institutions (code),
    licence_no       TEXT,
    import_id        BIGINT
);
CREATE UNIQUE INDEX practitioners_identity ON practitioners (id_number, id_type);
CREATE INDEX practitioners_institution ON practitioners (institution_code, id);

CREATE TABLE residents (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_type        TEXT NOT NULL,
    id_number      TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    sex            TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date     DATE NOT NULL,
    phone          TEXT,
    -- Checked by hc-app on every write path, not by a foreign key: a per-row RI trigger
    -- halves bulk-load speed on the largest table, and org units are never deleted.
    community_code TEXT COLLATE "C" NOT NULL,
    residence      TEXT NOT NULL,
    import_id      BIGINT
);
CREATE UNIQUE INDEX residents_identity ON residents (id_number, id_type);
CREATE INDEX residents_community ON residents (community_code, id);
CREATE INDEX residents_name ON residents (name, id);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE TABLE import_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    inserted    BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL DEFAULT 0,
    unchanged   BIGINT NOT NULL DEFAULT 0,
    rejected    BIGINT NOT NULL DEFAULT 0
);
