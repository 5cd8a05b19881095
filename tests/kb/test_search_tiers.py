"""A match too broad to rank whole is ranked over a tier (`hotline.services.kb_search._ranked`):
the store takes the first tier that has enough matches, else the whole match; a query of common
words keeps its every-word meaning in each tier. Over the starter base, with the thresholds
lowered so that its few articles count as many."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.kb.text import query_options, query_terms, stems
from hotline.services import kb_search
from hotline.services.kb import install_starter
from hotline.store import StoreHandle
from hotline.store import kb as kb_store

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"


async def stem_columns(store: StoreHandle, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each article's (title and tags, body) as their stems."""
    rows = await store.read(lambda tx: tx.fetchall("SELECT id, title, body, tags FROM kb_articles"))
    return {r[0]: (stems(r[1] + " " + r[3]), stems(r[2])) for r in rows if r[0] in ids}


async def test_the_first_tier_with_enough_matches_is_ranked_else_the_whole_match(
    store: StoreHandle,
) -> None:
    await install_starter(store, load_settings(SHIPPED))
    nowhere = kb_store.in_titles('"несуществующ"')
    in_titles = kb_store.in_titles('"заявлен"*')

    async def search(limit: int) -> list[kb_store.Hit]:
        return await store.read(
            lambda tx: kb_store.search(
                tx,
                '"заявлен"*',
                topic=None,
                language=None,
                limit=limit,
                tiers=[nowhere, in_titles],
            )
        )

    titled = await store.read(
        lambda tx: tx.fetchall("SELECT count(*) FROM kb_index WHERE kb_index MATCH ?", (in_titles,))
    )
    enough = titled[0][0]
    assert enough >= 2
    few = await search(enough)
    assert len(few) == enough
    titles = await stem_columns(store, [h.id for h in few])
    assert all("заявлен" in titles[h.id][0] for h in few)
    whole = await search(enough + 1)  # the tier has too few: the whole match, body included
    assert len(whole) > enough
    titles = await stem_columns(store, [h.id for h in whole])
    assert any("заявлен" not in titles[h.id][0] for h in whole)


async def test_a_broad_match_of_common_words_answers_with_articles_holding_every_word(
    store: StoreHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    await install_starter(store, load_settings(SHIPPED))
    monkeypatch.setattr(kb_search, "COMMON_DOCS", 0)  # every word common
    monkeypatch.setattr(kb_search, "CANDIDATES", 0)  # every match too broad to rank whole
    groups = query_options(query_terms("проверить статус заявления"))
    for limit in (1, 2, 3):
        answer = await store.read(
            lambda tx, n=limit: kb_search.find_articles(
                tx, "проверить статус заявления", topic=None, language=None, limit=n
            )
        )
        assert len(answer.articles) == limit
        columns = await stem_columns(store, [a.id for a in answer.articles])
        for titled, body in columns.values():
            held = (titled + " " + body).split()
            assert all(any(o.matches(t) for o in g for t in held) for g in groups.values())
    # One answer: from the first tier, every word in the title or tags (the one article so).
    first = await store.read(
        lambda tx: kb_search.find_articles(
            tx, "проверить статус заявления", topic=None, language=None, limit=1
        )
    )
    assert [a.title for a in first.articles] == ["Как проверить статус заявления"]
