-- The operators' certification journal and the quality evaluations of handled contacts
-- (hotline.store.certifications, hotline.store.evaluations).
--
-- Journal entries are never updated: a correction is a new row naming the one it corrects
-- (`corrects`, at most once each). `operators.certified_until` stays, now derived: the last day
-- of certification the journal gives (hotline.domain.certification), written in the same
-- transaction as every entry, so the router is rebuilt from it on start as before.
CREATE TABLE certifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id     TEXT NOT NULL,                     -- no foreign key, as for contacts
    kind            TEXT NOT NULL CHECK (kind IN ('theory', 'practical', 'imported')),
    score           REAL,                              -- NULL for an import
    max_score       REAL CHECK (max_score IS NULL OR max_score > 0),
    passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
    examiner        TEXT,
    taken_at        REAL NOT NULL,                     -- epoch seconds
    valid_until     TEXT,                              -- ISO date: imports only
    recommendations TEXT,
    corrects        INTEGER REFERENCES certifications (id),
    recorded_by     TEXT NOT NULL,                     -- the token's name; 'migration 0017'
    recorded_at     REAL NOT NULL,
    CHECK ((kind = 'imported') = (valid_until IS NOT NULL))
) STRICT;

CREATE INDEX certifications_operator ON certifications (operator_id, id);
CREATE UNIQUE INDEX certifications_corrected ON certifications (corrects)
    WHERE corrects IS NOT NULL;

-- The dates supervisors typed become the journal's first entries: history, imported.
INSERT INTO certifications (operator_id, kind, passed, taken_at, valid_until, recorded_by,
                            recorded_at)
SELECT id, 'imported', 1, updated_at, certified_until, 'migration 0017', updated_at
  FROM operators
 WHERE certified_until IS NOT NULL;

-- A supervisor's scoring of one handled contact on a scorecard of `[scorecards]`.
-- `handled_at` is the contact's end: the period figures count an evaluation there.
CREATE TABLE evaluations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id       TEXT NOT NULL,
    operator_id      TEXT NOT NULL,
    scorecard        TEXT NOT NULL,
    answers          TEXT NOT NULL CHECK (json_valid(answers)),  -- {"answers": {"q": true}, "failed": ["q"]}
    score            REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
    failed_criticals INTEGER NOT NULL CHECK (failed_criticals >= 0),
    passed           INTEGER NOT NULL CHECK (passed IN (0, 1)),
    comment          TEXT,
    handled_at       REAL NOT NULL,
    evaluated_by     TEXT NOT NULL,
    evaluated_at     REAL NOT NULL
) STRICT;

CREATE INDEX evaluations_contact ON evaluations (contact_id, id);
CREATE INDEX evaluations_handled ON evaluations (handled_at, operator_id);
