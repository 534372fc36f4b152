-- Primary care (issue #6): family-doctor teams, contracts and the services delivered under
-- them, the facts key populations are derived from, hypertension and diabetes programs with
-- their follow-ups, and annual health checks.
--
-- Follow-ups store the rules' verdict (classification, action, next due date) with the
-- version of the rules that gave it: hc-app re-evaluates a patient's visits on every write,
-- so the stored verdicts are always those of the visits as they now stand.

CREATE TABLE care_teams (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    -- The institution's community, copied so that jurisdiction checks need no join.
    community_code   TEXT COLLATE "C" NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX care_teams_institution ON care_teams (institution_code, id);
CREATE INDEX care_teams_community ON care_teams (community_code, id);

CREATE TABLE care_team_members (
    team_id         BIGINT NOT NULL REFERENCES care_teams (id),
    practitioner_id BIGINT NOT NULL REFERENCES practitioners (id),
    role            TEXT NOT NULL CHECK (role IN ('gp_lead', 'nurse', 'public_health', 'other')),
    PRIMARY KEY (team_id, practitioner_id)
);
CREATE INDEX care_team_members_practitioner ON care_team_members (practitioner_id);

CREATE TABLE contracts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id    BIGINT NOT NULL REFERENCES residents (id),
    team_id        BIGINT NOT NULL REFERENCES care_teams (id),
    package        TEXT NOT NULL CHECK (package IN ('basic', 'personalised')),
    kind           TEXT NOT NULL CHECK (kind IN ('new', 'renewal', 'change')),
    previous_id    BIGINT REFERENCES contracts (id),
    start_date     DATE NOT NULL,
    -- The agreed end; ended_on is set when a contract ends early (changed team, moved, died).
    end_date       DATE NOT NULL CHECK (end_date > start_date),
    ended_on       DATE,
    end_reason     TEXT,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL
);
CREATE INDEX contracts_resident ON contracts (resident_id, start_date);
CREATE INDEX contracts_team ON contracts (team_id, resident_id);
CREATE INDEX contracts_previous ON contracts (previous_id);

CREATE TABLE contract_services (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id     BIGINT NOT NULL REFERENCES contracts (id),
    service         TEXT NOT NULL,
    delivered_on    DATE NOT NULL,
    practitioner_id BIGINT REFERENCES practitioners (id),
    note            TEXT
);
CREATE INDEX contract_services_contract ON contract_services (contract_id, delivered_on);

CREATE TABLE diagnoses (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id  BIGINT NOT NULL REFERENCES residents (id),
    code         TEXT NOT NULL,
    -- The key population the code makes a resident part of (hc-care decides), or NULL.
    population   TEXT,
    diagnosed_on DATE NOT NULL,
    resolved_on  DATE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX diagnoses_resident ON diagnoses (resident_id, diagnosed_on);
CREATE INDEX diagnoses_population ON diagnoses (population, resident_id);

CREATE TABLE pregnancies (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id   BIGINT NOT NULL REFERENCES residents (id),
    registered_on DATE NOT NULL,
    ended_on      DATE
);
CREATE INDEX pregnancies_resident ON pregnancies (resident_id, registered_on);

CREATE TABLE disabilities (
    resident_id    BIGINT PRIMARY KEY REFERENCES residents (id),
    certificate_no TEXT,
    registered_on  DATE NOT NULL
);

CREATE TABLE enrolments (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id  BIGINT NOT NULL REFERENCES residents (id),
    program      TEXT NOT NULL CHECK (program IN ('hypertension', 'diabetes')),
    enrolled_on  DATE NOT NULL,
    ended_on     DATE,
    end_reason   TEXT,
    diagnosis_id BIGINT REFERENCES diagnoses (id),
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX enrolments_resident ON enrolments (resident_id, program);
CREATE INDEX enrolments_program ON enrolments (program, id);

CREATE TABLE followups (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrolment_id      BIGINT NOT NULL REFERENCES enrolments (id),
    visit_date        DATE NOT NULL,
    face_to_face      BOOLEAN NOT NULL,
    sbp               INTEGER,
    dbp               INTEGER,
    fpg               DOUBLE PRECISION,
    heart_rate        INTEGER,
    weight_kg         DOUBLE PRECISION,
    height_cm         DOUBLE PRECISION,
    symptoms          TEXT NOT NULL DEFAULT '',
    danger_sign       BOOLEAN NOT NULL,
    smoking_per_day   INTEGER,
    drinking_per_day  INTEGER,
    exercise_per_week INTEGER,
    salt              TEXT CHECK (salt IN ('light', 'moderate', 'heavy')),
    adherence         TEXT CHECK (adherence IN ('regular', 'intermittent', 'none')),
    adverse_reaction  TEXT NOT NULL CHECK (adverse_reaction IN ('none', 'controlled', 'uncontrollable')),
    complication      TEXT NOT NULL CHECK (complication IN ('none', 'stable', 'new', 'worse')),
    medication        TEXT NOT NULL DEFAULT '',
    practitioner_id   BIGINT REFERENCES practitioners (id),
    classification    TEXT NOT NULL,
    action            TEXT NOT NULL,
    next_due          DATE NOT NULL,
    rules_version     TEXT NOT NULL,
    recorded_at       BIGINT NOT NULL,
    recorded_by       TEXT NOT NULL
);
CREATE UNIQUE INDEX followups_enrolment ON followups (enrolment_id, visit_date);
CREATE INDEX followups_date ON followups (visit_date, enrolment_id);

CREATE TABLE health_checks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resident_id     BIGINT NOT NULL REFERENCES residents (id),
    kind            TEXT NOT NULL CHECK (kind IN ('annual', 'elderly')),
    check_date      DATE NOT NULL,
    -- Elderly self-care assessment score (老年人生活自理能力评估, 0-100; lower is better).
    self_care_score INTEGER,
    findings        TEXT NOT NULL DEFAULT '',
    practitioner_id BIGINT REFERENCES practitioners (id),
    recorded_at     BIGINT NOT NULL
);
CREATE INDEX health_checks_resident ON health_checks (resident_id, kind, check_date);
CREATE INDEX health_checks_date ON health_checks (kind, check_date, resident_id);
