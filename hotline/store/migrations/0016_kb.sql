-- The knowledge base: articles and answer templates, every version of each, the search index
-- over their stems, and what operators searched for and used (the gaps and reports).

CREATE TABLE kb_articles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused: versions refer to them
    slug        TEXT UNIQUE,                        -- the name an import knows it by, if any
    kind        TEXT NOT NULL CHECK (kind IN ('article', 'template')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,                      -- Markdown
    topics      TEXT NOT NULL CHECK (json_valid(topics)),  -- JSON list of topic codes
    tags        TEXT NOT NULL CHECK (json_valid(tags)),
    language    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    review_by   TEXT,                               -- YYYY-MM-DD
    author      TEXT NOT NULL,
    version     INTEGER NOT NULL,                   -- the latest in kb_versions
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
) STRICT;

CREATE INDEX kb_articles_status ON kb_articles (status, kind, id);
CREATE INDEX kb_articles_review ON kb_articles (review_by) WHERE status = 'published';

-- Each version holds the whole article as it was then; append-only.
CREATE TABLE kb_versions (
    article_id  INTEGER NOT NULL REFERENCES kb_articles (id),
    version     INTEGER NOT NULL,
    at          REAL NOT NULL,
    editor      TEXT NOT NULL,                      -- who: the token's name (its id beside it)
    editor_token TEXT NOT NULL,
    changed     TEXT NOT NULL CHECK (json_valid(changed)),  -- the fields changed, a JSON list
    note        TEXT NOT NULL DEFAULT '',           -- the editor's word on what and why
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    topics      TEXT NOT NULL,
    tags        TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL,
    review_by   TEXT,
    PRIMARY KEY (article_id, version)
) STRICT;

CREATE TRIGGER kb_versions_no_update BEFORE UPDATE ON kb_versions
BEGIN
    SELECT RAISE(ABORT, 'kb_versions is append-only');
END;

CREATE TRIGGER kb_versions_no_delete BEFORE DELETE ON kb_versions
BEGIN
    SELECT RAISE(ABORT, 'kb_versions is append-only');
END;

-- The search index: published articles only, rowid = kb_articles.id; the columns hold stems
-- (hotline.kb.text.stems), since sqlite3 cannot load a stemming tokenizer. The originals stay
-- in kb_articles, where the snippet is cut from.
CREATE VIRTUAL TABLE kb_index USING fts5 (
    title_stems, body_stems, tags_stems,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Every stem indexed, with how many indexed articles hold it: tells a query word the index
-- knows from one to correct, gives the corrections' candidates, and tells a common word from
-- an informative one (hotline.services.kb_search). A B-tree range seek, where FTS5's own
-- vocabulary table would read each term's whole list of documents.
CREATE TABLE kb_stems (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL CHECK (docs >= 0)
) STRICT, WITHOUT ROWID;

-- Every search asked: what, by whom, how many answers, and whether an article was used after it.
CREATE TABLE kb_searches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          REAL NOT NULL,
    query       TEXT NOT NULL,
    normalised  TEXT NOT NULL,                      -- the query's words, stop words dropped
    hits        INTEGER NOT NULL,
    token_id    TEXT NOT NULL,
    operator_id TEXT,
    contact_id  TEXT,
    used_at     REAL                                -- an article was used after it
) STRICT;

CREATE INDEX kb_searches_by_token ON kb_searches (token_id, at);
CREATE INDEX kb_searches_unused ON kb_searches (at) WHERE used_at IS NULL;

-- An article used on a contact, and whether it helped.
CREATE TABLE kb_uses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          REAL NOT NULL,
    contact_id  TEXT NOT NULL,
    article_id  INTEGER NOT NULL REFERENCES kb_articles (id),
    version     INTEGER NOT NULL,                   -- the version the operator read
    helpful     INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    token_id    TEXT NOT NULL,
    operator_id TEXT
) STRICT;

CREATE INDEX kb_uses_article ON kb_uses (article_id);
CREATE INDEX kb_uses_contact ON kb_uses (contact_id);

-- Set by this migration, cleared by the first start that installs the starter articles
-- (hotline.services.kb.install_starter): a fresh install answers real questions, and a
-- deployer who later removes a starter article does not get it back.
CREATE TABLE kb_pending (
    what TEXT PRIMARY KEY
) STRICT;

INSERT INTO kb_pending (what) VALUES ('starter');
