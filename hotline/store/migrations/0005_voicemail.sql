-- Voicemails: recordings from the switch, each called back through one or more `callback`
-- contacts (attempts), with an append-only history beside the current state.
--
-- A voicemail row and its attempt are written before the attempt's contact is queued, so a crash
-- in between leaves a row whose contact is missing, which start-up queues again (same contact id,
-- same times). The router's events for callback contacts reach the voicemail through the two
-- triggers at the bottom, in the journal's own transaction: an acceptance or a breach of the
-- hour can never be on disk for the contact and missing for its voicemail.

CREATE TABLE voicemails (
    id                TEXT PRIMARY KEY,          -- vm_<16 hex>
    phone             TEXT NOT NULL,             -- E.164; masked at the edges
    topic             TEXT NOT NULL,
    language          TEXT NOT NULL,
    transcript        TEXT,
    audio_type        TEXT NOT NULL,             -- wav | ogg_opus | mp3, sniffed from the bytes
    audio_size        INTEGER NOT NULL,
    audio_sha256      TEXT NOT NULL,
    audio_file        TEXT NOT NULL,             -- name inside [voicemail].dir
    audio_deleted_at  REAL,                      -- set by the retention sweep; metadata stays
    arrived_at        REAL NOT NULL,
    deadline_at       REAL NOT NULL,             -- one working hour of the voice line after arrival
    state             TEXT NOT NULL,             -- calling | retry_wait | completed | closed
    attempts          INTEGER NOT NULL,          -- callback contacts made so far, the current one too
    contact_id        TEXT NOT NULL,             -- the latest callback contact
    next_attempt_at   REAL,                      -- while retry_wait: when the next one is queued
    breached          INTEGER NOT NULL DEFAULT 0 CHECK (breached IN (0, 1)), -- first hour missed
    idempotency_scope TEXT,
    idempotency_key   TEXT,
    ended_at          REAL,
    updated_at        REAL NOT NULL,
    UNIQUE (idempotency_scope, idempotency_key)
) STRICT;

CREATE INDEX voicemails_arrived ON voicemails (arrived_at);
CREATE INDEX voicemails_retry_due ON voicemails (next_attempt_at) WHERE state = 'retry_wait';
CREATE INDEX voicemails_calling ON voicemails (contact_id) WHERE state = 'calling';
CREATE INDEX voicemails_audio_kept ON voicemails (arrived_at) WHERE audio_deleted_at IS NULL;

CREATE TABLE voicemail_attempts (
    voicemail_id TEXT NOT NULL REFERENCES voicemails (id),
    attempt      INTEGER NOT NULL,               -- 1, 2, ...
    contact_id   TEXT NOT NULL UNIQUE,           -- no foreign key: the row comes first
    arrived_at   REAL NOT NULL,                  -- when the callback contact was due
    target_at    REAL NOT NULL,
    deadline_at  REAL NOT NULL,
    accepted_at  REAL,                           -- first acceptance by an operator (trigger)
    operator_id  TEXT,                           -- who accepted it (trigger)
    breached_at  REAL,                           -- its hour passed before anyone took it (trigger)
    outcome      TEXT,                           -- reached | not_reached, as reported
    comment      TEXT,
    reported_by  TEXT,                           -- the operator the outcome was reported for
    reported_at  REAL,
    PRIMARY KEY (voicemail_id, attempt)
) STRICT;

CREATE TABLE voicemail_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    voicemail_id TEXT NOT NULL REFERENCES voicemails (id),
    at           REAL NOT NULL,
    kind         TEXT NOT NULL,  -- received | callback_queued | callback_accepted | breached |
                                 -- attempt_reported | retry_scheduled | completed | closed |
                                 -- sms_queued | sms_skipped | callback_requeued | audio_deleted
    attempt      INTEGER,
    data         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX voicemail_events_voicemail ON voicemail_events (voicemail_id, id);
CREATE INDEX voicemail_events_kind_at ON voicemail_events (kind, at);

CREATE TRIGGER voicemail_callback_accepted AFTER INSERT ON contact_events
WHEN NEW.kind = 'accepted'
 AND EXISTS (SELECT 1 FROM voicemail_attempts WHERE contact_id = NEW.contact_id)
BEGIN
    INSERT INTO voicemail_events (voicemail_id, at, kind, attempt, data)
    SELECT voicemail_id, NEW.at, 'callback_accepted', attempt,
           json_object('contact_id', NEW.contact_id, 'operator_id', NEW.operator_id)
      FROM voicemail_attempts WHERE contact_id = NEW.contact_id;
    UPDATE voicemail_attempts SET accepted_at = COALESCE(accepted_at, NEW.at),
                                  operator_id = COALESCE(operator_id, NEW.operator_id)
     WHERE contact_id = NEW.contact_id;
END;

CREATE TRIGGER voicemail_callback_breached AFTER INSERT ON contact_events
WHEN NEW.kind = 'breached'
 AND EXISTS (SELECT 1 FROM voicemail_attempts WHERE contact_id = NEW.contact_id)
BEGIN
    INSERT INTO voicemail_events (voicemail_id, at, kind, attempt, data)
    SELECT voicemail_id, NEW.at, 'breached', attempt,
           json_object('contact_id', NEW.contact_id, 'deadline_at', deadline_at)
      FROM voicemail_attempts WHERE contact_id = NEW.contact_id;
    UPDATE voicemail_attempts SET breached_at = COALESCE(breached_at, NEW.at)
     WHERE contact_id = NEW.contact_id;
    UPDATE voicemails SET breached = 1
     WHERE id = (SELECT voicemail_id FROM voicemail_attempts
                  WHERE contact_id = NEW.contact_id AND attempt = 1);
END;
