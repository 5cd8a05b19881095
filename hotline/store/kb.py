"""The knowledge base in the store: articles, their versions, the FTS5 index, searches and uses.

Written and read by `hotline.services.kb` only. An article's row is its latest version; every
write appends the whole article to `kb_versions` in the same transaction (append-only, by its
triggers). The FTS5 table `kb_index` holds the stems of published articles only (rowid = the
article's id), kept in step by `reindex` in the transaction that changes the article; a search
ranks by bm25 with the title weighted above the tags and the tags above the body.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hotline.kb.articles import ArticleDraft, Kind, Status
from hotline.kb.text import Option, stems
from hotline.store.tx import Tx

# bm25 weights of kb_index's columns: title_stems, body_stems, tags_stems.
TITLE_WEIGHT, BODY_WEIGHT, TAGS_WEIGHT = 8.0, 1.0, 4.0
_RANK = f"bm25({TITLE_WEIGHT}, {BODY_WEIGHT}, {TAGS_WEIGHT})"

_ARTICLE_COLUMNS = (
    "id, slug, kind, title, body, topics, tags, language, status, review_by, author, version,"
    " created_at, updated_at"
)
_DRAFT_COLUMNS = "kind, title, body, topics, tags, language, status, review_by"


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: int
    slug: str | None
    draft: ArticleDraft
    author: str
    version: int
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class VersionRow:
    article_id: int
    version: int
    at: float
    editor: str
    changed: list[str]
    note: str
    draft: ArticleDraft


@dataclass(frozen=True, slots=True)
class Editor:
    """Who makes a version: the token's name, and its id."""

    name: str
    token_id: str


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    score: float  # bm25: lower is better
    title: str
    body: str
    topics: list[str]
    language: str
    version: int
    body_stems: str  # one stem per word of the body, in order: what the snippet marks from


def _draft(row: sqlite3.Row) -> ArticleDraft:
    review = row["review_by"]
    return ArticleDraft(
        title=row["title"],
        body=row["body"],
        topics=tuple(json.loads(row["topics"])),
        tags=tuple(json.loads(row["tags"])),
        language=row["language"],
        status=Status(row["status"]),
        review_by=None if review is None else date.fromisoformat(review),
        kind=Kind(row["kind"]),
    )


def _article(row: sqlite3.Row) -> ArticleRow:
    return ArticleRow(
        row["id"],
        row["slug"],
        _draft(row),
        row["author"],
        row["version"],
        row["created_at"],
        row["updated_at"],
    )


def _draft_values(d: ArticleDraft) -> tuple[object, ...]:
    return (
        d.kind.value,
        d.title,
        d.body,
        json.dumps(list(d.topics), ensure_ascii=False),
        json.dumps(list(d.tags), ensure_ascii=False),
        d.language,
        d.status.value,
        None if d.review_by is None else d.review_by.isoformat(),
    )


async def insert_article(
    tx: Tx,
    draft: ArticleDraft,
    *,
    slug: str | None,
    author: str,
    editor: Editor,
    note: str,
    at: float,
) -> int:
    await tx.execute(
        f"INSERT INTO kb_articles (slug, {_DRAFT_COLUMNS}, author, version, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (slug, *_draft_values(draft), author, at, at),
    )
    row = await tx.fetchone("SELECT last_insert_rowid()")
    assert row is not None
    article_id = int(row[0])
    await _append_version(tx, article_id, 1, draft, editor, ["created"], note, at)
    await reindex(tx, article_id, draft)
    return article_id


@dataclass(frozen=True, slots=True)
class NewArticle:
    slug: str
    draft: ArticleDraft
    author: str


async def insert_new_articles(
    tx: Tx, articles: Sequence[NewArticle], *, editor: Editor, note: str, at: float
) -> None:
    """Insert articles whose slugs are new, in a few statements whatever their number (an
    import, the starter base at every fresh start)."""
    if not articles:
        return
    await tx.executemany(
        f"INSERT INTO kb_articles (slug, {_DRAFT_COLUMNS}, author, version, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        [(a.slug, *_draft_values(a.draft), a.author, at, at) for a in articles],
    )
    ids = await slug_ids(tx, [a.slug for a in articles])
    await tx.executemany(
        f"INSERT INTO kb_versions (article_id, version, at, editor, editor_token, changed, note,"
        f" {_DRAFT_COLUMNS}) VALUES (?, 1, ?, ?, ?, '[\"created\"]', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (ids[a.slug], at, editor.name, editor.token_id, note, *_draft_values(a.draft))
            for a in articles
        ],
    )
    indexed = [(ids[a.slug], *_index_values(a.draft)) for a in articles if _indexed(a.draft)]
    await tx.executemany(
        "INSERT INTO kb_index (rowid, title_stems, body_stems, tags_stems) VALUES (?, ?, ?, ?)",
        indexed,
    )
    await _count_stems(tx, [row[1:] for row in indexed], +1)


async def slug_ids(tx: Tx, slugs: Sequence[str]) -> dict[str, int]:
    if not slugs:
        return {}
    marks = ", ".join("?" for _ in slugs)
    rows = await tx.fetchall(f"SELECT slug, id FROM kb_articles WHERE slug IN ({marks})", slugs)
    return {r[0]: r[1] for r in rows}


async def articles_by_slug(tx: Tx, slugs: Sequence[str]) -> dict[str, ArticleRow]:
    if not slugs:
        return {}
    marks = ", ".join("?" for _ in slugs)
    rows = await tx.fetchall(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles WHERE slug IN ({marks})", slugs
    )
    return {r["slug"]: _article(r) for r in rows}


async def update_article(
    tx: Tx,
    article_id: int,
    draft: ArticleDraft,
    *,
    version: int,
    editor: Editor,
    changed: Sequence[str],
    note: str,
    at: float,
) -> None:
    """Make `draft` version `version` of the article (the caller read `version - 1`)."""
    changes = await tx.execute(
        f"UPDATE kb_articles SET ({_DRAFT_COLUMNS}, version, updated_at)"
        " = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ? AND version = ?",
        (*_draft_values(draft), version, at, article_id, version - 1),
    )
    if changes != 1:
        raise RuntimeError(f"article {article_id} changed under its edit")
    await _append_version(tx, article_id, version, draft, editor, changed, note, at)
    await reindex(tx, article_id, draft)


async def _append_version(
    tx: Tx,
    article_id: int,
    version: int,
    draft: ArticleDraft,
    editor: Editor,
    changed: Sequence[str],
    note: str,
    at: float,
) -> None:
    await tx.execute(
        f"INSERT INTO kb_versions (article_id, version, at, editor, editor_token, changed, note,"
        f" {_DRAFT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            article_id,
            version,
            at,
            editor.name,
            editor.token_id,
            json.dumps(list(changed)),
            note,
            *_draft_values(draft),
        ),
    )


async def reindex(tx: Tx, article_id: int, draft: ArticleDraft) -> None:
    """The article's entry in the search index as `draft` says: published articles only."""
    old = await tx.fetchone(
        "SELECT title_stems, body_stems, tags_stems FROM kb_index WHERE rowid = ?", (article_id,)
    )
    if old is not None:
        await tx.execute("DELETE FROM kb_index WHERE rowid = ?", (article_id,))
        await _count_stems(tx, [tuple(old)], -1)
    if _indexed(draft):
        values = _index_values(draft)
        await tx.execute(
            "INSERT INTO kb_index (rowid, title_stems, body_stems, tags_stems) VALUES (?, ?, ?, ?)",
            (article_id, *values),
        )
        await _count_stems(tx, [values], +1)


async def _count_stems(tx: Tx, documents: Sequence[Sequence[str]], step: int) -> None:
    """Add `step` to the document count of each stem of each document (its stem columns)."""
    counts: Counter[str] = Counter()
    for columns in documents:
        counts.update({term for text in columns for term in text.split()})
    if step < 0:  # every stem of an indexed document has its row
        await tx.executemany(
            "UPDATE kb_stems SET docs = docs - ? WHERE term = ?",
            [(-n * step, term) for term, n in sorted(counts.items())],
        )
        return
    await tx.executemany(
        "INSERT INTO kb_stems (term, docs) VALUES (?, ?)"
        " ON CONFLICT (term) DO UPDATE SET docs = docs + excluded.docs",
        [(term, n * step) for term, n in sorted(counts.items())],
    )


def _indexed(draft: ArticleDraft) -> bool:
    return draft.status is Status.PUBLISHED and draft.kind is Kind.ARTICLE


def _index_values(draft: ArticleDraft) -> tuple[str, str, str]:
    return stems(draft.title), stems(draft.body), stems(" ".join(draft.tags))


async def get_article(tx: Tx, article_id: int) -> ArticleRow | None:
    row = await tx.fetchone(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles WHERE id = ?", (article_id,)
    )
    return None if row is None else _article(row)


async def list_articles(
    tx: Tx,
    *,
    status: str | None,
    kind: str | None,
    topic: str | None,
    language: str | None,
    after_id: int,
    limit: int,
) -> list[ArticleRow]:
    where, params = ["id > ?"], [after_id]
    for column, value in (("status", status), ("kind", kind), ("language", language)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)  # type: ignore[arg-type]
    if topic is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?)")
        params.append(topic)  # type: ignore[arg-type]
    rows = await tx.fetchall(
        f"SELECT {_ARTICLE_COLUMNS} FROM kb_articles WHERE {' AND '.join(where)}"
        " ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [_article(r) for r in rows]


def _version(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        row["article_id"],
        row["version"],
        row["at"],
        row["editor"],
        json.loads(row["changed"]),
        row["note"],
        _draft(row),
    )


async def list_versions(tx: Tx, article_id: int) -> list[VersionRow]:
    rows = await tx.fetchall(
        f"SELECT article_id, version, at, editor, changed, note, {_DRAFT_COLUMNS}"
        " FROM kb_versions WHERE article_id = ? ORDER BY version",
        (article_id,),
    )
    return [_version(r) for r in rows]


async def get_version(tx: Tx, article_id: int, version: int) -> VersionRow | None:
    row = await tx.fetchone(
        f"SELECT article_id, version, at, editor, changed, note, {_DRAFT_COLUMNS}"
        " FROM kb_versions WHERE article_id = ? AND version = ?",
        (article_id, version),
    )
    return None if row is None else _version(row)


async def search(
    tx: Tx,
    match: str,
    *,
    topic: str | None,
    language: str | None,
    limit: int,
    tiers: Sequence[str] = (),
) -> list[Hit]:
    """Published articles matching the FTS5 expression `match` over the stems, best first;
    with `tiers` (expressions each matching a part of `match`), those of the first tier that
    matches at least `limit` articles, if one does.

    One statement (each is a round trip to the database's thread). A tier is chosen by
    counting its first `limit` matches, which costs no ranking: bm25 reads the whole list of
    documents of each of its phrases for their idf before it scores the first row, so a tier
    ranked only to find it too small would cost as much as one kept. Then the ranking alone,
    in a subquery (FTS5 sorts by `rank` itself, computing nothing else per match), and the
    text of the few rows kept, by id."""
    joined, filters, filter_params = _filters(topic=topic, language=language)
    # The MATCH: the expression, or a choice among the tiers with the expression last.
    chosen = "?"
    params: list[str | int] = []
    if tiers:
        probe = (
            f"(SELECT count(*) FROM (SELECT 1 FROM kb_index{joined}"
            f" WHERE kb_index MATCH ?{filters} LIMIT ?))"
        )
        cases = " ".join(f"WHEN {probe} >= ? THEN ?" for _ in tiers)
        chosen = f"(SELECT CASE {cases} ELSE ? END)"
        for tier in tiers:
            params += [tier, *filter_params, limit, limit, tier]
    params.append(match)
    rows = await tx.fetchall(
        "SELECT a.id, r.rank, a.title, a.body, a.topics, a.language, a.version, i.body_stems"
        f" FROM (SELECT kb_index.rowid AS id, rank FROM kb_index{joined}"
        f" WHERE kb_index MATCH {chosen} AND rank MATCH ?{filters} ORDER BY rank LIMIT ?) AS r"
        " JOIN kb_articles AS a ON a.id = r.id JOIN kb_index AS i ON i.rowid = r.id",
        (*params, _RANK, *filter_params, limit),
    )
    hits = [
        Hit(
            r["id"],
            r["rank"],
            r["title"],
            r["body"],
            json.loads(r["topics"]),
            r["language"],
            r["version"],
            r["body_stems"],
        )
        for r in rows
    ]
    hits.sort(key=lambda h: (h.score, h.id))
    return hits


def _filters(*, topic: str | None, language: str | None) -> tuple[str, str, list[str]]:
    """The join, the conditions (each after an AND) and their parameters that keep a search
    to a topic and a language."""
    if language is None and topic is None:
        return "", "", []
    conditions, params = [], []
    if language is not None:
        conditions.append(" AND a.language = ?")
        params.append(language)
    if topic is not None:
        conditions.append(" AND EXISTS (SELECT 1 FROM json_each(a.topics) WHERE value = ?)")
        params.append(topic)
    return " JOIN kb_articles AS a ON a.id = kb_index.rowid", "".join(conditions), params


def in_titles(match: str) -> str:
    """The FTS5 expression `match` restricted to the title and tags columns (bm25 then counts
    only what is found there for its phrases)."""
    return f"{{title_stems tags_stems}} : ({match})"


async def optimize_index(tx: Tx) -> None:
    """Merge the FTS5 index's segments into one: a bulk import leaves one per batch, and every
    search reads each term's documents from each segment (a third to a half of a search's cost
    over 10,000 articles imported in ten batches)."""
    await tx.execute("INSERT INTO kb_index (kb_index) VALUES ('optimize')")


async def document_counts(tx: Tx, groups: Mapping[str, Sequence[Option]]) -> dict[str, int]:
    """For each query word, about how many indexed articles hold a stem its options match (the
    sum over its options and their stems: an over-count, never an under-count; 0 when none
    does). One statement whatever the number of words, each option a range seek."""
    options = [(word, o) for word, group in groups.items() for o in group]
    if not options:
        return {}
    probe = " UNION ALL ".join(
        "SELECT ?, (SELECT coalesce(sum(docs), 0) FROM kb_stems WHERE term >= ? AND term < ?)"
        for _ in options
    )
    params = [
        v
        for i, (_, o) in enumerate(options)
        for v in (i, o.term, o.term + "\U0010ffff" if o.prefix else o.term + "\x00")
    ]
    counts = dict.fromkeys(groups, 0)
    for index, docs in await tx.fetchall(probe, params):
        counts[options[index][0]] += docs
    return counts


async def terms_like(tx: Tx, ranges: Sequence[tuple[str, int, int]]) -> list[list[str]]:
    """For each `(first, shortest, longest)`: the index terms that begin with the letter
    `first`, of a length in [shortest, longest] (the candidates for a misspelt word's
    correction). One statement for all, each range one row (terms hold no spaces)."""
    if not ranges:
        return []
    probe = " UNION ALL ".join(
        "SELECT ?, (SELECT group_concat(term, ' ') FROM kb_stems WHERE term >= ? AND term < ?"
        " AND docs > 0 AND length(term) BETWEEN ? AND ?)"
        for _ in ranges
    )
    params = [
        v
        for i, (first, shortest, longest) in enumerate(ranges)
        for v in (i, first, first + "\U0010ffff", shortest, longest)
    ]
    found: list[list[str]] = [[] for _ in ranges]
    for index, terms in await tx.fetchall(probe, params):
        found[index] = terms.split() if terms else []
    return found
