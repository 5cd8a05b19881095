-- The store's probe: while the storage cannot be written (disk full, I/O errors), the store
-- rewrites this one row now and then to learn when it can write again (hotline/store/actor.py).
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at REAL NOT NULL,
    pad BLOB NOT NULL
) STRICT;
