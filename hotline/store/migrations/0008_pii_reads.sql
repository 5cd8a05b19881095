-- Who read a citizen's personal data, unmasked: one row per resource shown to a person
-- (supervisor, admin, operator; the portal's integration token is the citizen's own channel and
-- is not recorded). Append-only: rows are never changed nor removed, so triggers refuse both.

CREATE TABLE pii_reads (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused: the list pages by it
    at          REAL NOT NULL,
    token_id    TEXT NOT NULL,                      -- who: the token (its id, never the secret)
    role        TEXT NOT NULL,
    operator_id TEXT,                               -- for an operator token
    kind        TEXT NOT NULL,                      -- what: ticket | contact | voicemail | ...
    resource_id TEXT NOT NULL,
    fields      TEXT NOT NULL CHECK (json_valid(fields))  -- the fields shown unmasked, a JSON list
) STRICT;

CREATE INDEX pii_reads_at ON pii_reads (at);
CREATE INDEX pii_reads_token ON pii_reads (token_id, id);
CREATE INDEX pii_reads_operator ON pii_reads (operator_id, id) WHERE operator_id IS NOT NULL;

CREATE TRIGGER pii_reads_no_update BEFORE UPDATE ON pii_reads
BEGIN
    SELECT RAISE(ABORT, 'pii_reads is append-only');
END;

CREATE TRIGGER pii_reads_no_delete BEFORE DELETE ON pii_reads
BEGIN
    SELECT RAISE(ABORT, 'pii_reads is append-only');
END;
