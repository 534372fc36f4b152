-- Detection runs, signals, events and their workflow (issue #7), the map's shapes and the demo's
-- injected outbreaks.
--
-- surv_dirty: the days whose counts changed since the last run, per feed (written in the same
-- transaction as the counts; `mark` grows with each change), so that a run re-evaluates the
-- days late records touched; a run clears the marks it read, unless they changed meanwhile.
-- surv_runs: one row per detection run (what it covered and found).
-- surv_signals: one row per alarm episode of a stream; a stream that stays above threshold
-- updates its open signal (last_day, days, peak) instead of raising a new one. It keeps the
-- method, parameters, engine version, baseline and threshold, so it can be explained and
-- re-computed. surv_signal_days: the stream's evaluation on each alarm day of the episode.
-- surv_events: signals of independent sources fused by a multi-point rule.
-- surv_actions: the workflow (assign, verify, outcome, note), append-only.
-- surv_webhooks / surv_outbox: configured endpoints and the signed notifications owed to them.
-- A webhook names the environment variable that holds its HMAC secret (secret_env), never the
-- secret; area_code '' is the whole city. The outbox is written in the transaction that raises
-- or escalates a signal or event, or records an action, and emptied by the delivery loop.
-- org_shapes: a polygon (GeoJSON geometry) and label point per org unit, for maps and the scan.
-- demo_outbreaks: what the demo injected, to show what was detected and when.

CREATE TABLE surv_dirty (
    feed      TEXT NOT NULL,
    day       DATE NOT NULL,
    mark      BIGINT NOT NULL,
    PRIMARY KEY (feed, day)
);

CREATE TABLE surv_runs (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT,
    from_day       DATE NOT NULL,
    to_day         DATE NOT NULL,
    config_version TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    streams        BIGINT NOT NULL DEFAULT 0,
    evaluations    BIGINT NOT NULL DEFAULT 0,
    signals_new    BIGINT NOT NULL DEFAULT 0,
    signals_updated BIGINT NOT NULL DEFAULT 0,
    events_new     BIGINT NOT NULL DEFAULT 0,
    errors         TEXT NOT NULL DEFAULT '[]',
    run_by         TEXT NOT NULL
);

CREATE TABLE surv_signals (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream         TEXT NOT NULL,
    feed           TEXT NOT NULL,
    code           TEXT NOT NULL,
    level          TEXT NOT NULL CHECK (level IN ('community', 'street', 'district', 'city')),
    area_code      TEXT NOT NULL,
    frequency      TEXT NOT NULL CHECK (frequency IN ('day', 'week')),
    rule           TEXT NOT NULL,
    method         TEXT NOT NULL,
    params         TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    alert          TEXT NOT NULL,
    first_day      DATE NOT NULL,
    last_day       DATE NOT NULL,
    days           BIGINT NOT NULL,
    observed       DOUBLE PRECISION NOT NULL,
    expected       DOUBLE PRECISION,
    threshold      DOUBLE PRECISION,
    score          DOUBLE PRECISION,
    peak_day       DATE NOT NULL,
    peak_observed  DOUBLE PRECISION NOT NULL,
    baseline       TEXT NOT NULL,
    detail         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'new',
    outcome        TEXT,
    assigned_to    TEXT,
    event_id       BIGINT,
    run_id         BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    answered_at    BIGINT
);
CREATE INDEX surv_signals_stream ON surv_signals (stream, last_day);
CREATE INDEX surv_signals_day ON surv_signals (first_day, id);
CREATE INDEX surv_signals_last ON surv_signals (last_day);
CREATE INDEX surv_signals_area ON surv_signals (area_code, first_day);

CREATE TABLE surv_signal_days (
    signal_id BIGINT NOT NULL REFERENCES surv_signals (id) ON DELETE CASCADE,
    day       DATE NOT NULL,
    observed  DOUBLE PRECISION NOT NULL,
    expected  DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    score     DOUBLE PRECISION,
    PRIMARY KEY (signal_id, day)
);

CREATE TABLE surv_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule        TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('community', 'street', 'district', 'city')),
    alert       TEXT NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    first_day   DATE NOT NULL,
    last_day    DATE NOT NULL,
    sources     TEXT NOT NULL,
    explanation TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    outcome     TEXT,
    assigned_to TEXT,
    run_id      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    answered_at BIGINT
);
CREATE INDEX surv_events_day ON surv_events (first_day, id);
CREATE INDEX surv_events_area ON surv_events (area_code, last_day);

CREATE TABLE surv_event_signals (
    event_id  BIGINT NOT NULL REFERENCES surv_events (id) ON DELETE CASCADE,
    signal_id BIGINT NOT NULL REFERENCES surv_signals (id),
    PRIMARY KEY (event_id, signal_id)
);
CREATE INDEX surv_event_signals_signal ON surv_event_signals (signal_id);

CREATE TABLE surv_actions (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signal_id BIGINT REFERENCES surv_signals (id),
    event_id  BIGINT REFERENCES surv_events (id),
    at        BIGINT NOT NULL,
    username  TEXT NOT NULL,
    action    TEXT NOT NULL,
    status    TEXT,
    outcome   TEXT,
    assigned_to TEXT,
    note      TEXT NOT NULL DEFAULT '',
    CHECK ((signal_id IS NULL) <> (event_id IS NULL))
);
CREATE INDEX surv_actions_signal ON surv_actions (signal_id, id);
CREATE INDEX surv_actions_event ON surv_actions (event_id, id);

CREATE TABLE surv_webhooks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url        TEXT NOT NULL UNIQUE,
    secret_env TEXT NOT NULL,
    min_alert  TEXT NOT NULL,
    area_code  TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE surv_outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   BIGINT NOT NULL REFERENCES surv_webhooks (id),
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error   TEXT
);
CREATE INDEX surv_outbox_due ON surv_outbox (delivered_at, next_at);

CREATE TABLE org_shapes (
    code     TEXT PRIMARY KEY,
    geometry TEXT NOT NULL,
    x        DOUBLE PRECISION NOT NULL,
    y        DOUBLE PRECISION NOT NULL,
    source   TEXT NOT NULL
);

CREATE TABLE demo_outbreaks (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed           TEXT NOT NULL,
    code           TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    first_day      DATE NOT NULL,
    last_day       DATE NOT NULL,
    extra          BIGINT NOT NULL,
    description    TEXT NOT NULL
);
