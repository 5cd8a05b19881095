"""Searching the knowledge base, and what operators did with what they found.

`find_articles(tx, ...)` is the search itself, one read: the query's words are stemmed
(`hotline.kb.text`), a word the index does not know is corrected to the index's nearest
spellings (`hotline.kb.spelling`), FTS5 ranks the published articles by bm25, and each answer
gets a highlighted snippet cut from its original text. `search` wraps it for the API and records
the search; `record_use` records an article used on a contact (and marks the caller's recent
searches as answered); `reports` lists the most used and least helpful articles, the questions
with no answer, and the articles past their review date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hotline.domain.errors import Invalid, NotFound
from hotline.domain.masking import mask_personal_numbers
from hotline.kb.articles import Status
from hotline.kb.snippet import marked_words, snippet
from hotline.kb.spelling import allowed_edits, close_spellings
from hotline.kb.text import (
    Option,
    QueryTerms,
    match_expression,
    query_options,
    query_terms,
    stem,
    widest,
)
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.kb import READERS, WRITERS
from hotline.store import Tx, kb_usage
from hotline.store import kb as kb_store
from hotline.store.kb_usage import DueArticle, Gap, UsedArticle

__all__ = [
    "Found",
    "Reports",
    "SearchAnswer",
    "find_articles",
    "record_use",
    "reports",
    "search",
]

MAX_QUERY_CHARS = 500
# A query word held by more articles than this is common (see `_informative`).
COMMON_DOCS = 300
# A match that may hold more articles than this is ranked over a tier first (`_ranked`).
CANDIDATES = 500
# How many of a query's rarest words, one after another, may make the tier of a match of every
# word: each is one more FTS5 statement, and the less rare a word, the less its title says.
PIVOTS = 2


@dataclass(frozen=True, slots=True)
class Found:
    id: int
    title: str
    snippet: str
    score: float  # bm25, lower is better
    topics: list[str]
    language: str
    version: int


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    articles: list[Found]
    corrections: dict[str, list[str]]  # a query word → the indexed stems it was read as


async def _corrections(tx: Tx, terms: QueryTerms, counts: dict[str, int]) -> dict[str, list[str]]:
    """For each word that no indexed article holds: the index's nearest stems. The candidates
    of all such words come in one statement."""
    misspelt: list[tuple[str, str, int]] = []
    for word in terms.words:
        stemmed = stem(word)
        edits = allowed_edits(stemmed)
        if edits and counts[word] == 0:
            misspelt.append((word, stemmed, edits))
    ranges = [
        letter_range
        for _, stemmed, edits in misspelt
        for letter_range in (
            (stemmed[0], len(stemmed) - edits, len(stemmed) + edits),
            # a misspelt first letter: the second letter's words too
            (stemmed[1], len(stemmed) - edits - 1, len(stemmed) + edits - 1),
        )
    ]
    candidates = await kb_store.terms_like(tx, ranges)
    found: dict[str, list[str]] = {}
    for i, (word, stemmed, _) in enumerate(misspelt):
        close = close_spellings(stemmed, candidates[2 * i] + candidates[2 * i + 1])
        if close:
            found[word] = close
    return found


def _informative(counts: dict[str, int], corrected: Collection[str]) -> tuple[list[str], bool]:
    """The words to match, and whether all of them must match. A word held by more than
    `COMMON_DOCS` articles ranks next to nothing under bm25 yet makes FTS5 score every one of
    them: while the query has a rarer word, it is left out of the match (its matches are still
    marked in the snippets). A query of common words only must match them all."""
    rare = [w for w, n in counts.items() if n <= COMMON_DOCS or w in corrected]
    if any(counts[w] > 0 or w in corrected for w in rare):
        return rare, False
    return list(counts), True


async def _ranked(
    tx: Tx,
    words: list[tuple[Option, ...]],
    sizes: list[int],
    *,
    every: bool,
    topic: str | None,
    language: str | None,
    limit: int,
) -> list[kb_store.Hit]:
    """The best `limit` articles matching `words` (all of them with `every`, else any), whose
    stems `sizes` articles hold (over-counts, from `kb_stems`).

    bm25 costs microseconds per matching article, and ORDER BY rank LIMIT scores every match,
    so a match that may hold more than `CANDIDATES` articles is ranked over a tier, and over
    the whole match only when the tier has fewer than `limit` answers (a tiered index; the
    store counts a tier's matches before it ranks any):
    - any word: the articles matching in the title or tags (outweighing the body 8 and 4 to 1);
    - every word, each common (else `_informative` would not ask for all): the articles with
      every word in the title or tags; else those whose title or tags hold the rarest word
      (the most informative, the highest idf) and the others anywhere; else the same for the
      next rarest, up to `PIVOTS` words.
    A word no article holds makes the match of every word empty without asking FTS5."""
    if every and min(sizes) == 0:
        return []
    tiers: list[str] = []
    if every:  # common words only: the same match with fewer phrases for bm25 to score
        words = [widest(group) for group in words]
        if min(sizes) > CANDIDATES:
            tiers.append(kb_store.in_titles(match_expression(words, every=True)))
            by_rarity = sorted(range(len(words)), key=sizes.__getitem__)
            for pivot in by_rarity[:PIVOTS]:
                others = [group for i, group in enumerate(words) if i != pivot]
                tier = kb_store.in_titles(match_expression([words[pivot]]))
                tiers.append(tier + "".join(f" AND {match_expression([g])}" for g in others))
    elif sum(sizes) > CANDIDATES:
        tiers.append(kb_store.in_titles(match_expression(words)))
    return await kb_store.search(
        tx,
        match_expression(words, every=every),
        topic=topic,
        language=language,
        limit=limit,
        tiers=list(dict.fromkeys(tiers)),  # one word: its rarest is all of it
    )


async def find_articles(
    tx: Tx, query: str, *, topic: str | None, language: str | None, limit: int
) -> SearchAnswer:
    """The published articles that answer `query`, best first, each with its snippet."""
    terms = query_terms(query)
    if terms.empty:
        return SearchAnswer([], {})
    counts = await kb_store.document_counts(tx, query_options(terms))
    corrections = await _corrections(tx, terms, counts)
    groups = query_options(terms, corrections)
    chosen, every = _informative(counts, corrections)
    sizes = dict(counts)
    if corrections:  # a corrected word matches as many articles as its corrections hold
        sizes.update(await kb_store.document_counts(tx, {w: groups[w] for w in corrections}))
    chosen_groups, chosen_sizes = [groups[w] for w in chosen], [sizes[w] for w in chosen]
    hits = await _ranked(
        tx,
        chosen_groups,
        chosen_sizes,
        every=every,
        topic=topic,
        language=language,
        limit=limit,
    )
    if not hits and every and len(chosen) > 1:  # common words that never meet: any of them
        hits = await _ranked(
            tx,
            chosen_groups,
            chosen_sizes,
            every=False,
            topic=topic,
            language=language,
            limit=limit,
        )
    options = [o for group in groups.values() for o in group]
    return SearchAnswer(
        [
            Found(
                h.id,
                h.title,
                snippet(h.body, marked_words(h.body_stems, options)),
                h.score,
                h.topics,
                h.language,
                h.version,
            )
            for h in hits
        ],
        corrections,
    )


async def search(
    sv: Services,
    principal: Principal,
    query: str,
    *,
    topic: str | None,
    language: str | None,
    limit: int,
    contact_id: str | None,
) -> SearchAnswer:
    principal.require(*READERS)
    if len(query) > MAX_QUERY_CHARS:
        raise Invalid(f"a query is at most {MAX_QUERY_CHARS} characters", field="q")
    if query_terms(query).empty:
        raise Invalid("the query has no words to search for", field="q")
    if topic is not None and topic not in sv.settings.topics:
        raise Invalid(f"unknown topic {topic!r}", field="topic")
    answer = await sv.store.read(
        lambda tx: find_articles(tx, query, topic=topic, language=language, limit=limit)
    )
    # Kept for the "no answer" report, which editors read: numbers that may be a phone, INN or
    # SNILS are masked in the query as written and left out of its words.
    words = (w for w in query_terms(query).words if not any(ch.isdigit() for ch in w))
    record = kb_usage.SearchRecord(
        query=mask_personal_numbers(query),
        normalised=" ".join(words),
        hits=len(answer.articles),
        token_id=principal.token_id,
        operator_id=principal.operator_id,
        contact_id=contact_id,
    )
    at = sv.clock.now()
    await sv.store.transact(lambda tx: kb_usage.record_search(tx, record, at=at))
    return answer


@dataclass(frozen=True, slots=True)
class Use:
    contact_id: str
    article_id: int
    version: int
    helpful: bool
    searches_answered: int  # the caller's recent searches this use answered


async def record_use(
    sv: Services, principal: Principal, contact_id: str, article_id: int, *, helpful: bool
) -> Use:
    """An article was used on a contact, helpfully or not. An operator records it only for a
    contact it took; supervisors for any."""
    principal.require(Role.SUPERVISOR, Role.OPERATOR)
    at = sv.clock.now()
    window_s = sv.settings.kb.gap_window_min * 60.0

    async def work(tx: Tx) -> Use:
        exists, _ = await kb_usage.contact_exists(tx, contact_id)
        if not exists or (
            principal.role is Role.OPERATOR
            and not await kb_usage.operator_took(tx, contact_id, principal.operator_id or "")
        ):
            raise NotFound("no such contact")  # another operator's contact: not said to exist
        article = await kb_store.get_article(tx, article_id)
        if article is None or article.draft.status is not Status.PUBLISHED:
            raise Invalid("no published article with this id", field="article_id")
        answered = await kb_usage.record_use(
            tx,
            contact_id=contact_id,
            article_id=article_id,
            version=article.version,
            helpful=helpful,
            token_id=principal.token_id,
            operator_id=principal.operator_id,
            at=at,
            window_s=window_s,
        )
        return Use(contact_id, article_id, article.version, helpful, answered)

    return await sv.store.transact(work)


@dataclass(frozen=True, slots=True)
class Reports:
    since: float
    most_used: list[UsedArticle]
    least_helpful: list[UsedArticle]
    no_answer: list[Gap]
    past_review: list[DueArticle]


async def reports(sv: Services, principal: Principal, *, days: int) -> Reports:
    principal.require(*WRITERS)
    now = sv.clock.now()
    since = now - days * 86_400.0
    kb = sv.settings.kb
    settled_before = now - kb.gap_window_min * 60.0
    today = sv.calendar.local_date(now).isoformat()

    async def work(tx: Tx) -> Reports:
        return Reports(
            since=since,
            most_used=await kb_usage.most_used(tx, since=since, limit=kb.report_rows),
            least_helpful=await kb_usage.least_helpful(
                tx, since=since, min_uses=kb.least_helpful_min_uses, limit=kb.report_rows
            ),
            no_answer=await kb_usage.gaps(
                tx, since=since, settled_before=settled_before, limit=kb.report_rows
            ),
            past_review=await kb_usage.past_review(tx, today=today, limit=kb.report_rows),
        )

    return await sv.store.read(work)
