-- Primary-care indicators at city scale (issue #6).
--
-- program_years holds each enrolment's follow-up facts per calendar year: visits, face-to-face
-- visits, required re-visits that came late, the due date of a required re-visit still open
-- (only the enrolment's last visit can have one: whether it is missed depends on the day one
-- asks), and whether the year's last visit was on target. hc-store rewrites an enrolment's rows
-- in the same transaction as any change to its follow-ups, so they always match the visits.
-- The indicators read them instead of windowing every follow-up of the year.
--
-- The indexes serve the indicator queries: each reads one index range and returns resident ids.

CREATE TABLE program_years (
    enrolment_id   INTEGER NOT NULL REFERENCES enrolments (id),
    year           INTEGER NOT NULL,
    resident_id    INTEGER NOT NULL,
    program        TEXT NOT NULL,
    visits         INTEGER NOT NULL,
    face_to_face   INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    pending_due    TEXT,
    last_satisfied INTEGER NOT NULL,
    PRIMARY KEY (enrolment_id, year)
);
CREATE INDEX program_years_year ON program_years (program, year, face_to_face, missed, pending_due, last_satisfied, resident_id);

CREATE INDEX residents_birth ON residents (birth_date);
CREATE INDEX contracts_in_force ON contracts (end_date, start_date, ended_on, resident_id, package, id);
CREATE INDEX contracts_renewal ON contracts (kind, start_date, previous_id);
CREATE INDEX contract_services_date ON contract_services (delivered_on, contract_id);
CREATE INDEX enrolments_managed ON enrolments (program, enrolled_on, ended_on, resident_id);
CREATE INDEX diagnoses_key ON diagnoses (population, diagnosed_on, resolved_on, resident_id);

INSERT INTO program_years (enrolment_id, year, resident_id, program, visits, face_to_face, missed, pending_due, last_satisfied)
SELECT w.enrolment_id, w.year, e.resident_id, e.program, COUNT(*),
    SUM(CASE WHEN w.face_to_face THEN 1 ELSE 0 END),
    SUM(CASE WHEN w.action <> 'routine' AND w.next_visit > w.next_due THEN 1 ELSE 0 END),
    MAX(CASE WHEN w.action <> 'routine' AND w.next_visit IS NULL THEN w.next_due END),
    MAX(CASE WHEN w.classification = 'satisfied' AND (w.next_visit IS NULL OR substr(w.next_visit, 1, 4) <> substr(w.visit_date, 1, 4)) THEN 1 ELSE 0 END)
FROM (SELECT f.enrolment_id, CAST(substr(f.visit_date, 1, 4) AS INTEGER) AS year, f.visit_date, f.face_to_face,
        f.action, f.next_due, f.classification,
        LEAD(f.visit_date) OVER (PARTITION BY f.enrolment_id ORDER BY f.visit_date) AS next_visit
      FROM followups f) w
JOIN enrolments e ON e.id = w.enrolment_id
GROUP BY w.enrolment_id, w.year, e.resident_id, e.program;
