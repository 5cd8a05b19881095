-- The store's probe: while the storage cannot be written (disk full, I/O errors), the store
-- rewrites this one row now and then to learn when it can write again (hotline/store/actor.py).
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at REAL NOT NULL,
    pad BLOB NOT NULL
) STRICT;

-- Who this database is: upload folders carry it in their owner marker (hotline/files.py), so a
-- server on another database (a test run in a deployment's checkout) never sweeps them.
CREATE TABLE store_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    database_id TEXT NOT NULL
) STRICT;

INSERT INTO store_identity (id, database_id) VALUES (1, lower(hex(randomblob(16))));
