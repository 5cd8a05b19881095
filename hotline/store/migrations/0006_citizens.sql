-- The citizens' register the identity check compares against (imported with
-- `hotline import-citizens`), and every check made, which also drives the lock after failures.

CREATE TABLE citizens (
    id          INTEGER PRIMARY KEY,
    full_name   TEXT NOT NULL,
    name_key    TEXT NOT NULL,          -- case-folded, ё as е, single spaces: what checks compare
    inn         TEXT UNIQUE,            -- 10 or 12 digits, checksum valid
    snils       TEXT UNIQUE,            -- 11 digits, checksum valid
    phone       TEXT NOT NULL,          -- E.164
    imported_at REAL NOT NULL,
    CHECK (inn IS NOT NULL OR snils IS NOT NULL)
) STRICT;

CREATE INDEX citizens_phone ON citizens (phone);

CREATE TABLE identity_checks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    phone      TEXT,                    -- the contact's phone: the lock follows the caller
    at         REAL NOT NULL,
    method     TEXT NOT NULL,           -- inn | snils
    verified   INTEGER NOT NULL CHECK (verified IN (0, 1)),
    citizen_id INTEGER REFERENCES citizens (id)
) STRICT;

CREATE INDEX identity_checks_phone ON identity_checks (phone, at);
CREATE INDEX identity_checks_contact ON identity_checks (contact_id, at);
