-- Tickets (обращения): the current state beside an append-only history, changed together.
-- A ticket's `revision` counts its changes; with the number it names each change once, which is
-- what the outbox's dedupe keys are built from (one SMS per change, even across a crash).

CREATE TABLE tickets (
    number      TEXT PRIMARY KEY,               -- e.g. HL-7K3-M9Q-X2C (its last character a check)
    status      TEXT NOT NULL,                  -- accepted | in_progress | approved | rejected | completed
    topic       TEXT NOT NULL,
    phone       TEXT NOT NULL,                  -- E.164
    full_name   TEXT,
    email       TEXT,
    description TEXT NOT NULL,
    department  TEXT,                           -- where it was escalated, if anywhere
    source      TEXT NOT NULL,                  -- api | contact | feedback_form
    revision    INTEGER NOT NULL DEFAULT 1,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
) STRICT;

CREATE INDEX tickets_phone ON tickets (phone, created_at);
CREATE INDEX tickets_status ON tickets (status, created_at);

CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      TEXT NOT NULL REFERENCES tickets (number),
    revision    INTEGER NOT NULL,
    at          REAL NOT NULL,
    kind        TEXT NOT NULL,                  -- created | status_changed | linked | escalated
    actor       TEXT NOT NULL,                  -- who: token name, operator id
    from_status TEXT,
    to_status   TEXT,
    comment     TEXT,
    data        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX ticket_events_number ON ticket_events (number, id);

CREATE TABLE ticket_contacts (
    number     TEXT NOT NULL REFERENCES tickets (number),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    linked_at  REAL NOT NULL,
    PRIMARY KEY (number, contact_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX ticket_contacts_contact ON ticket_contacts (contact_id);
