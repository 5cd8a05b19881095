-- The outbox: SMS, e-mail and personal-account events, written in the same transaction as the
-- change that causes them and delivered later by the sender actors (`hotline.notify.sender`).
-- `dedupe_key` names the cause (one message per ticket change), so a second enqueue is a no-op;
-- it is also the idempotency key handed to the provider, so a re-delivery after a crash is
-- deduplicated on the provider's side.
--
-- States: pending -> sending -> sent -> delivered | failed, with sending -> pending on a retry
-- and pending|sending -> failed when the message expires or the provider refuses it for good.
-- A `sending` row is leased: its `next_attempt_at` is when the lease ends, after which another
-- claim takes it again (the sender died mid-send). delivered and failed are final.

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('sms', 'email', 'account_event')),
    recipient       TEXT NOT NULL,         -- E.164 phone, e-mail address or account key
    subject         TEXT,                  -- e-mail only
    body            TEXT NOT NULL,         -- text; JSON text for an account_event
    dedupe_key      TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,   -- claims so far
    next_attempt_at REAL NOT NULL,         -- due time (pending) or lease end (sending)
    expires_at      REAL,                  -- NULL: created_at + the sender's TTL for the kind
    provider        TEXT,                  -- which adapter delivered it
    provider_id     TEXT,                  -- the provider's id for it, what receipts name
    segments        INTEGER,               -- SMS parts billed
    last_error      TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
) STRICT;

-- What the senders poll: only the live rows, so the index stays small however long the history.
CREATE INDEX messages_due ON messages (kind, next_attempt_at)
    WHERE state IN ('pending', 'sending');
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_kind ON messages (kind, id);
CREATE INDEX messages_provider_id ON messages (provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE message_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    at         REAL NOT NULL,
    kind       TEXT NOT NULL,              -- enqueued | claimed | sent | retry | failed | receipt
    state      TEXT NOT NULL,              -- the message's state after this event
    data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))
) STRICT;

CREATE INDEX message_events_message ON message_events (message_id, id);
