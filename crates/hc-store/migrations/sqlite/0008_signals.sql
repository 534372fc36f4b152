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
    day       TEXT NOT NULL,
    mark      INTEGER NOT NULL,
    PRIMARY KEY (feed, day)
) WITHOUT ROWID;

CREATE TABLE surv_runs (
    id             INTEGER PRIMARY KEY,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    from_day       TEXT NOT NULL,
    to_day         TEXT NOT NULL,
    config_version TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    streams        INTEGER NOT NULL DEFAULT 0,
    evaluations    INTEGER NOT NULL DEFAULT 0,
    signals_new    INTEGER NOT NULL DEFAULT 0,
    signals_updated INTEGER NOT NULL DEFAULT 0,
    events_new     INTEGER NOT NULL DEFAULT 0,
    errors         TEXT NOT NULL DEFAULT '[]',
    run_by         TEXT NOT NULL
);

CREATE TABLE surv_signals (
    id             INTEGER PRIMARY KEY,
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
    first_day      TEXT NOT NULL,
    last_day       TEXT NOT NULL,
    days           INTEGER NOT NULL,
    observed       REAL NOT NULL,
    expected       REAL,
    threshold      REAL,
    score          REAL,
    peak_day       TEXT NOT NULL,
    peak_observed  REAL NOT NULL,
    baseline       TEXT NOT NULL,
    detail         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'new',
    outcome        TEXT,
    assigned_to    TEXT,
    event_id       INTEGER,
    run_id         INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    answered_at    INTEGER
);
CREATE INDEX surv_signals_stream ON surv_signals (stream, last_day);
CREATE INDEX surv_signals_day ON surv_signals (first_day, id);
CREATE INDEX surv_signals_last ON surv_signals (last_day);
CREATE INDEX surv_signals_area ON surv_signals (area_code, first_day);

CREATE TABLE surv_signal_days (
    signal_id INTEGER NOT NULL REFERENCES surv_signals (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    observed  REAL NOT NULL,
    expected  REAL,
    threshold REAL,
    score     REAL,
    PRIMARY KEY (signal_id, day)
) WITHOUT ROWID;

CREATE TABLE surv_events (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('community', 'street', 'district', 'city')),
    alert       TEXT NOT NULL,
    score       REAL NOT NULL,
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    sources     TEXT NOT NULL,
    explanation TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    outcome     TEXT,
    assigned_to TEXT,
    run_id      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE INDEX surv_events_day ON surv_events (first_day, id);
CREATE INDEX surv_events_area ON surv_events (area_code, last_day);

CREATE TABLE surv_event_signals (
    event_id  INTEGER NOT NULL REFERENCES surv_events (id) ON DELETE CASCADE,
    signal_id INTEGER NOT NULL REFERENCES surv_signals (id),
    PRIMARY KEY (event_id, signal_id)
) WITHOUT ROWID;
CREATE INDEX surv_event_signals_signal ON surv_event_signals (signal_id);

CREATE TABLE surv_actions (
    id        INTEGER PRIMARY KEY,
    signal_id INTEGER REFERENCES surv_signals (id),
    event_id  INTEGER REFERENCES surv_events (id),
    at        INTEGER NOT NULL,
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
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL UNIQUE,
    secret_env TEXT NOT NULL,
    min_alert  TEXT NOT NULL,
    area_code  TEXT NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE surv_outbox (
    id           INTEGER PRIMARY KEY,
    webhook_id   INTEGER NOT NULL REFERENCES surv_webhooks (id),
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error   TEXT
);
CREATE INDEX surv_outbox_due ON surv_outbox (delivered_at, next_at);

CREATE TABLE org_shapes (
    code     TEXT PRIMARY KEY,
    geometry TEXT NOT NULL,
    x        REAL NOT NULL,
    y        REAL NOT NULL,
    source   TEXT NOT NULL
);

CREATE TABLE demo_outbreaks (
    id             INTEGER PRIMARY KEY,
    feed           TEXT NOT NULL,
    code           TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    first_day      TEXT NOT NULL,
    last_day       TEXT NOT NULL,
    extra          INTEGER NOT NULL,
    description    TEXT NOT NULL
);
