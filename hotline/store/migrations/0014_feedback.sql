-- Citizens' feedback sorted by theme (hotline/store/feedback.py, hotline/quality/themes.py):
-- survey comments, feedback forms and complaints an operator records. Each row is classified
-- when it is written, by the rules of `[feedback.themes]` that the server copied into
-- feedback_rules at start; a supervisor's correction is appended to feedback_corrections and
-- becomes the row's current label.

CREATE TABLE feedback (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused: the list pages by it
    at              REAL NOT NULL,                      -- when the citizen gave it
    source          TEXT NOT NULL CHECK (source IN ('survey', 'form', 'complaint')),
    source_id       TEXT NOT NULL,                      -- the survey, ticket or contact it came with
    text            TEXT NOT NULL,                      -- as given: may hold personal data
    topic           TEXT,
    operator_id     TEXT,
    -- The current label: a JSON list of one or more themes; the latest correction, else `auto`.
    categories      TEXT NOT NULL CHECK (json_valid(categories) AND json_array_length(categories) > 0),
    auto_categories TEXT NOT NULL CHECK (json_valid(auto_categories)),  -- the classifier's label
    terms           TEXT NOT NULL,                      -- distinct stems of the text, space-separated
    corrected_at    REAL,                               -- the latest correction's time, if any
    UNIQUE (source, source_id)
) STRICT;

CREATE INDEX feedback_at ON feedback (at);
CREATE INDEX feedback_topic ON feedback (topic, id);

-- Every correction of a label, oldest first; never changed nor removed.
CREATE TABLE feedback_corrections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    feedback_id INTEGER NOT NULL REFERENCES feedback (id),
    at          REAL NOT NULL,
    token_id    TEXT NOT NULL,                          -- who corrected it (the token's id)
    previous    TEXT NOT NULL CHECK (json_valid(previous)),
    categories  TEXT NOT NULL CHECK (json_valid(categories) AND json_array_length(categories) > 0)
) STRICT;

CREATE INDEX feedback_corrections_of ON feedback_corrections (feedback_id, id);

CREATE TRIGGER feedback_corrections_no_update BEFORE UPDATE ON feedback_corrections
BEGIN
    SELECT RAISE(ABORT, 'feedback_corrections is append-only');
END;

CREATE TRIGGER feedback_corrections_no_delete BEFORE DELETE ON feedback_corrections
BEGIN
    SELECT RAISE(ABORT, 'feedback_corrections is append-only');
END;

-- The theme rules in force (`[feedback.themes]` as JSON), written by the server at start so that
-- any writer classifies by the configured rules inside its own transaction. No row: no rules,
-- and every comment is `other`.
CREATE TABLE feedback_rules (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    rules TEXT NOT NULL CHECK (json_valid(rules))
) STRICT;
