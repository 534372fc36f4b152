-- Surveillance feeds (issue #7): sentinel syndromic visits, notifiable-disease cases, pharmacy
-- sales, school absenteeism and laboratory results.
--
-- surv_records keeps every record as accepted, once per (feed, sender, sender's record id):
-- re-sending a record finds it and, if it changed, updates it. Besides the fields (JSON) each
-- record says what it adds to the daily counts: `contrib` is `code=value|code=value` (for a
-- visit, 1 to each syndrome it was classified into) and `denom` what it adds to the feed's
-- denominator (a visit: 1; a school report: pupils enrolled).
--
-- surv_counts holds those sums per feed, code, community and day; the code '*' is the
-- denominator. hc-store changes a record and the counts it fed in one transaction, so the
-- counts always equal the sum over the records.
--
-- Few indexes on purpose: every one is paid for on each record written (a covering index of
-- the counts by day cost 10% of PostgreSQL's ingest speed).

CREATE TABLE surv_records (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed           TEXT NOT NULL,
    source_code    TEXT COLLATE "C" NOT NULL,
    record_id      TEXT COLLATE "C" NOT NULL,
    day            DATE NOT NULL,
    community_code TEXT COLLATE "C" NOT NULL,
    contrib        TEXT NOT NULL,
    denom          BIGINT NOT NULL,
    fields         JSONB NOT NULL,
    version        TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (feed, source_code, record_id)
);
CREATE INDEX surv_records_area ON surv_records (feed, community_code, day);

CREATE TABLE surv_counts (
    feed           TEXT NOT NULL,
    code           TEXT COLLATE "C" NOT NULL,
    community_code TEXT COLLATE "C" NOT NULL,
    day            DATE NOT NULL,
    value          BIGINT NOT NULL,
    PRIMARY KEY (feed, code, community_code, day)
);
