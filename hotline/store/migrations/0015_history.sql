-- A citizen's history (issue 14): notes kept with contacts, why a history was read, and the
-- indexes that find everything sent to or from one phone without a scan.

-- What an operator (or a supervisor) wrote about a contact. The API only adds notes (a note is
-- corrected by another); no trigger forbids changing one, so that retention may scrub the text.
CREATE TABLE contact_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    at          REAL NOT NULL,
    token_id    TEXT NOT NULL,                 -- who wrote it: the token's id, never the secret
    role        TEXT NOT NULL,
    operator_id TEXT,                          -- for an operator token
    text        TEXT NOT NULL
) STRICT;

CREATE INDEX contact_notes_contact ON contact_notes (contact_id, id);

-- Why a person (or the personal account) read what they read: given with each history read.
-- NULL for the reads recorded before, and for those that need no reason.
ALTER TABLE pii_reads ADD COLUMN reason TEXT;

-- One phone's contacts, voicemails and SMS, in time order (tickets have `tickets_phone`).
CREATE INDEX contacts_phone ON contacts (phone, arrived_at) WHERE phone IS NOT NULL;
CREATE INDEX voicemails_phone ON voicemails (phone, arrived_at);
CREATE INDEX messages_sms_recipient ON messages (recipient, created_at) WHERE kind = 'sms';
