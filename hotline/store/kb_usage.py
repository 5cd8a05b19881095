"""What the knowledge base was asked and what of it was used: `kb_searches` and `kb_uses`, and
the report queries over them (`GET /v1/kb/reports`), for `hotline.services.kb`.

A search is recorded with its caller; a use marks that caller's searches of the gap window
before it that found something as used (for the same contact, or with no contact named). A
search that found nothing, or that nothing was used after within the window, is a gap: the
knowledge base did not answer that question as it was asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class SearchRecord:
    query: str
    normalised: str
    hits: int
    token_id: str
    operator_id: str | None
    contact_id: str | None


@dataclass(frozen=True, slots=True)
class UsedArticle:
    article_id: int
    title: str
    uses: int
    helpful: int


@dataclass(frozen=True, slots=True)
class Gap:
    query: str  # the normalised words
    searches: int
    found_nothing: int  # of which returned no article at all
    last_at: float
    example: str  # one of the queries as typed


@dataclass(frozen=True, slots=True)
class DueArticle:
    article_id: int
    title: str
    review_by: str
    author: str


async def record_search(tx: Tx, search: SearchRecord, *, at: float) -> None:
    await tx.execute(
        "INSERT INTO kb_searches (at, query, normalised, hits, token_id, operator_id, contact_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            at,
            search.query,
            search.normalised,
            search.hits,
            search.token_id,
            search.operator_id,
            search.contact_id,
        ),
    )


async def contact_exists(tx: Tx, contact_id: str) -> tuple[bool, str | None]:
    """Whether the contact exists, and the operator who holds or last held it."""
    row = await tx.fetchone("SELECT operator_id FROM contacts WHERE id = ?", (contact_id,))
    return (False, None) if row is None else (True, row["operator_id"])


async def operator_took(tx: Tx, contact_id: str, operator_id: str) -> bool:
    """Whether the operator accepted the contact at some point."""
    row = await tx.fetchone(
        "SELECT 1 FROM contacts WHERE id = ? AND operator_id = ?"
        " UNION ALL SELECT 1 FROM contact_events WHERE contact_id = ? AND kind = 'accepted'"
        " AND operator_id = ? LIMIT 1",
        (contact_id, operator_id, contact_id, operator_id),
    )
    return row is not None


async def record_use(
    tx: Tx,
    *,
    contact_id: str,
    article_id: int,
    version: int,
    helpful: bool,
    token_id: str,
    operator_id: str | None,
    at: float,
    window_s: float,
) -> int:
    """Record the use; mark the caller's searches of the window before it as used. The number
    of searches so marked."""
    await tx.execute(
        "INSERT INTO kb_uses (at, contact_id, article_id, version, helpful, token_id, operator_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, contact_id, article_id, version, int(helpful), token_id, operator_id),
    )
    return await tx.execute(
        "UPDATE kb_searches SET used_at = ? WHERE token_id = ? AND at >= ? AND at <= ?"
        " AND used_at IS NULL AND hits > 0 AND (contact_id IS NULL OR contact_id = ?)",
        (at, token_id, at - window_s, at, contact_id),
    )


async def most_used(tx: Tx, *, since: float, limit: int) -> list[UsedArticle]:
    rows = await tx.fetchall(
        "SELECT u.article_id, a.title, count(*) AS uses, sum(u.helpful) AS helpful"
        " FROM kb_uses u JOIN kb_articles a ON a.id = u.article_id WHERE u.at >= ?"
        " GROUP BY u.article_id ORDER BY uses DESC, u.article_id LIMIT ?",
        (since, limit),
    )
    return [UsedArticle(r[0], r[1], r[2], r[3]) for r in rows]


async def least_helpful(tx: Tx, *, since: float, min_uses: int, limit: int) -> list[UsedArticle]:
    rows = await tx.fetchall(
        "SELECT u.article_id, a.title, count(*) AS uses, sum(u.helpful) AS helpful"
        " FROM kb_uses u JOIN kb_articles a ON a.id = u.article_id WHERE u.at >= ?"
        " GROUP BY u.article_id HAVING count(*) >= ?"
        " ORDER BY CAST(sum(u.helpful) AS REAL) / count(*), uses DESC, u.article_id LIMIT ?",
        (since, min_uses, limit),
    )
    return [UsedArticle(r[0], r[1], r[2], r[3]) for r in rows]


async def gaps(tx: Tx, *, since: float, settled_before: float, limit: int) -> list[Gap]:
    """Queries that found nothing, or after which nothing was used (judged only once the
    window has passed: `settled_before`), grouped by their normalised words, most asked first."""
    rows = await tx.fetchall(
        "SELECT normalised, count(*) AS n, sum(hits = 0) AS found_nothing, max(at) AS last_at,"
        " max(query) AS example FROM kb_searches"
        " WHERE at >= ? AND (hits = 0 OR (used_at IS NULL AND at < ?)) AND normalised != ''"
        " GROUP BY normalised ORDER BY n DESC, last_at DESC LIMIT ?",
        (since, settled_before, limit),
    )
    return [Gap(r[0], r[1], r[2], r[3], r[4]) for r in rows]


async def past_review(tx: Tx, *, today: str, limit: int) -> list[DueArticle]:
    rows = await tx.fetchall(
        "SELECT id, title, review_by, author FROM kb_articles"
        " WHERE status = 'published' AND review_by IS NOT NULL AND review_by < ?"
        " ORDER BY review_by, id LIMIT ?",
        (today, limit),
    )
    return [DueArticle(r[0], r[1], r[2], r[3]) for r in rows]
