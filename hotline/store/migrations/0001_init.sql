-- The first schema: contacts routed to operators, their event logs, API tokens, idempotency keys.
-- Times are seconds since the Unix epoch (UTC) as REAL, like the routing core's; JSON is TEXT.
-- Current-state tables sit beside append-only event tables and change in the same transaction.

CREATE TABLE contacts (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    topic          TEXT NOT NULL,
    language       TEXT NOT NULL,
    phone          TEXT,                  -- as given; masking happens at the edges
    priority       TEXT NOT NULL,
    state          TEXT NOT NULL,
    operator_id    TEXT,                  -- no foreign key: history outlives a removed operator
    arrived_at     REAL NOT NULL,
    target_at      REAL NOT NULL,
    deadline_at    REAL NOT NULL,
    seq            INTEGER NOT NULL UNIQUE, -- queue order, kept across restarts
    breached       INTEGER NOT NULL DEFAULT 0 CHECK (breached IN (0, 1)),
    overflowed     INTEGER NOT NULL DEFAULT 0 CHECK (overflowed IN (0, 1)),
    transferred_to TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    ended_at       REAL,                  -- NULL while the contact is live
    outcome        TEXT                   -- what the operator recorded when done
) STRICT;

-- Recovery reads the live contacts in queue order; a partial index keeps that cheap forever.
CREATE INDEX contacts_live ON contacts (seq) WHERE ended_at IS NULL;
CREATE INDEX contacts_state_topic ON contacts (state, topic);

CREATE TABLE contact_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so order holds
    contact_id  TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    at          REAL NOT NULL,
    kind        TEXT NOT NULL,
    operator_id TEXT,
    data        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX contact_events_contact ON contact_events (contact_id, id);
CREATE INDEX contact_events_at ON contact_events (at);

CREATE TABLE operators (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    skills          TEXT NOT NULL CHECK (json_valid(skills)),     -- {"skill": level}
    languages       TEXT NOT NULL CHECK (json_valid(languages)),  -- ["ru", "en"]
    capacity        TEXT NOT NULL CHECK (json_valid(capacity)),   -- {"chat": 3}
    certified_until TEXT,                                         -- ISO date, NULL if never
    presence        TEXT NOT NULL DEFAULT 'offline',
    state           TEXT NOT NULL DEFAULT 'offline',
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
) STRICT;

CREATE TABLE operator_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id TEXT NOT NULL,                         -- no foreign key, as for contacts
    at          REAL NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX operator_events_operator ON operator_events (operator_id, id);
CREATE INDEX operator_events_at ON operator_events (at);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,  -- the token itself is shown once and never stored
    role        TEXT NOT NULL,
    operator_id TEXT,
    name        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    revoked_at  REAL
) STRICT;

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,        -- e.g. the token and the route: keys of different clients never meet
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,        -- the same key with another body is a conflict, not a replay
    response     TEXT CHECK (response IS NULL OR json_valid(response)),
    created_at   REAL NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
