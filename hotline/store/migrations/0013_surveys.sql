-- The quality loop (issue 14): repeat contacts, rating surveys after completion, phones that
-- opted out of surveys, and the rollup the quality figures are read from. Written by the journal
-- (hotline/store/quality.py) in the transaction of the router events that cause them, and by
-- the survey service when a citizen answers.

-- The earlier contact (same phone, or the same identified citizen, same topic) this one repeats
-- within [quality] repeat_window_h; NULL for a first contact. Set once, when the contact is new.
ALTER TABLE contacts ADD COLUMN repeat_of TEXT;
-- The repeat lookup: a phone's contacts on one topic, latest first.
CREATE INDEX contacts_phone_topic ON contacts (phone, topic, arrived_at) WHERE phone IS NOT NULL;
-- ... and the contacts verified as a citizen (the citizen's registered phone calling again).
CREATE INDEX identity_checks_citizen ON identity_checks (citizen_id, contact_id) WHERE verified = 1;

-- One survey per contact (the UNIQUE contact_id is the dedupe key), invited by one SMS.
CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,   -- random, unguessable, single use: the link's last part
    contact_id  TEXT NOT NULL UNIQUE REFERENCES contacts (id),
    phone       TEXT,                   -- E.164; scrubbed with the contact's personal data
    topic       TEXT NOT NULL,
    priority    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    operator_id TEXT,
    ask_nps     INTEGER NOT NULL CHECK (ask_nps IN (0, 1)),
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    answered_at REAL,
    csat        INTEGER CHECK (csat BETWEEN 1 AND 5),
    nps         INTEGER CHECK (nps BETWEEN 0 AND 10),  -- the comment: in `feedback` (0014)
    answered_by TEXT                    -- the token (source) that posted the answer
) STRICT;

-- NPS at most once per [surveys] nps_every_days per phone: the phone's latest survey asking it.
CREATE INDEX surveys_phone_nps ON surveys (phone, created_at) WHERE ask_nps = 1;

-- Phones that asked for no more surveys (POST /v1/surveys/opt-out). Kept until withdrawn.
CREATE TABLE survey_opt_outs (
    phone  TEXT PRIMARY KEY,            -- E.164
    at     REAL NOT NULL,
    source TEXT NOT NULL                -- the token that recorded it
) STRICT, WITHOUT ROWID;

-- Counters of hotline.kpi.quality.QualityTally per minute / [kpi] interval_min / local day,
-- twice: the queue side (operator_id = '') by topic, priority class and channel; the operator
-- side (topic = priority = channel = '') by operator. Additive upserts, as kpi_queue's.
CREATE TABLE kpi_quality (
    grain          TEXT NOT NULL CHECK (grain IN ('minute', 'interval', 'day')),
    start          INTEGER NOT NULL,
    topic          TEXT NOT NULL,
    priority       TEXT NOT NULL,
    channel        TEXT NOT NULL,
    operator_id    TEXT NOT NULL,
    firsts         INTEGER NOT NULL,
    repeats        INTEGER NOT NULL,
    surveys_sent   INTEGER NOT NULL,
    answers        INTEGER NOT NULL,
    csat_good      INTEGER NOT NULL,
    nps_answers    INTEGER NOT NULL,
    nps_promoters  INTEGER NOT NULL,
    nps_detractors INTEGER NOT NULL,
    PRIMARY KEY (grain, start, topic, priority, channel, operator_id)
) STRICT, WITHOUT ROWID;

-- Retention (hotline/store/retention.py): the surveys still holding a phone.
CREATE INDEX surveys_personal ON surveys (created_at) WHERE phone IS NOT NULL;
