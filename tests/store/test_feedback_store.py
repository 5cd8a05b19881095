"""Feedback in the store: a comment is classified as it is written, by the rules the server put
in force; a retried write returns the first row; without rules a comment is `other`."""

from __future__ import annotations

import sqlite3

import pytest

from hotline.quality.themes import RulesError, Theme
from hotline.store import StoreHandle, Tx
from hotline.store.feedback import (
    FeedbackRow,
    FeedbackSource,
    add_feedback,
    correct_categories,
    corrections,
    get_feedback,
    list_feedback,
    set_theme_rules,
    trend_rows,
)

RULES = {"wait_time": ["ожидание"], "thanks": ["спасибо"]}
AT = 1_780_000_000.0


async def write(
    store: StoreHandle, source_id: str, text: str, *, topic: str = "applications", at: float = AT
) -> int:
    async def work(tx: Tx) -> int:
        return await add_feedback(
            tx,
            source=FeedbackSource.SURVEY,
            source_id=source_id,
            text=text,
            topic=topic,
            operator_id="op-1",
            at=at,
        )

    return await store.transact(work)


async def read(store: StoreHandle, feedback_id: int) -> FeedbackRow:
    async def work(tx: Tx) -> FeedbackRow | None:
        return await get_feedback(tx, feedback_id)

    row = await store.read(work)
    assert row is not None
    return row


async def rules(store: StoreHandle, given: dict[str, list[str]]) -> None:
    async def work(tx: Tx) -> None:
        await set_theme_rules(tx, given)

    await store.transact(work)


async def test_a_comment_is_classified_as_it_is_written(store: StoreHandle) -> None:
    await rules(store, RULES)
    fid = await write(store, "s-1", "Спасибо! Но ожидание было долгим")
    row = await read(store, fid)
    assert row.categories == (Theme.WAIT_TIME, Theme.THANKS)
    assert row.auto_categories == row.categories
    assert (row.source, row.source_id, row.topic, row.operator_id, row.at) == (
        FeedbackSource.SURVEY,
        "s-1",
        "applications",
        "op-1",
        AT,
    )
    assert row.corrected_at is None


async def test_a_retried_write_returns_the_first_row(store: StoreHandle) -> None:
    first = await write(store, "s-1", "спасибо")
    again = await write(store, "s-1", "другой текст")
    assert again == first
    assert (await read(store, first)).text == "спасибо"
    assert await write(store, "s-2", "спасибо") != first


async def test_without_rules_every_comment_is_other(store: StoreHandle) -> None:
    fid = await write(store, "s-1", "спасибо")
    assert (await read(store, fid)).categories == (Theme.OTHER,)


async def test_new_rules_apply_to_later_comments_only(store: StoreHandle) -> None:
    await rules(store, RULES)
    before = await write(store, "s-1", "спасибо")
    await rules(store, {"thanks": ["благодарю"]})
    after = await write(store, "s-2", "спасибо")
    assert (await read(store, before)).categories == (Theme.THANKS,)
    assert (await read(store, after)).categories == (Theme.OTHER,)


async def test_rules_that_cannot_work_are_refused_before_they_are_written(
    store: StoreHandle,
) -> None:
    await rules(store, RULES)
    with pytest.raises(RulesError):
        await rules(store, {"praise": ["спасибо"]})
    assert (await read(store, await write(store, "s-1", "спасибо"))).categories == (Theme.THANKS,)


async def test_an_unknown_source_is_refused(store: StoreHandle) -> None:
    async def work(tx: Tx) -> int:
        return await add_feedback(
            tx, source="rumour", source_id="x", text="t", topic=None, operator_id=None, at=AT
        )

    with pytest.raises(ValueError, match="rumour"):
        await store.transact(work)


async def test_the_database_refuses_a_row_without_a_label(store: StoreHandle) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute(
            "INSERT INTO feedback (at, source, source_id, text, categories, auto_categories,"
            " terms) VALUES (1, 'survey', 'x', 't', '[]', '[]', '')"
        )

    with pytest.raises(sqlite3.IntegrityError):
        await store.transact(work)


async def test_a_correction_becomes_the_label_and_every_one_is_kept(store: StoreHandle) -> None:
    await rules(store, RULES)
    fid = await write(store, "s-1", "спасибо, но ждал долго")

    async def correct(themes: tuple[Theme, ...], at: float) -> FeedbackRow | None:
        return await store.transact(
            lambda tx: correct_categories(tx, fid, themes, token_id="t-sup", at=at)
        )

    await correct((Theme.WAIT_TIME,), AT + 1)
    row = await correct((Theme.WAIT_TIME, Theme.THANKS), AT + 2)
    assert row is not None
    assert row.categories == (Theme.WAIT_TIME, Theme.THANKS)
    assert row.auto_categories == (Theme.THANKS,)  # the classifier's, as first written
    assert row.corrected_at == AT + 2
    history = await store.read(lambda tx: corrections(tx, fid))
    assert [(c.at, c.token_id, c.previous, c.categories) for c in history] == [
        (AT + 1, "t-sup", (Theme.THANKS,), (Theme.WAIT_TIME,)),
        (AT + 2, "t-sup", (Theme.WAIT_TIME,), (Theme.WAIT_TIME, Theme.THANKS)),
    ]
    assert await correct((Theme.OTHER,), AT + 3) is not None
    assert (
        await store.transact(
            lambda tx: correct_categories(tx, fid + 1, (Theme.OTHER,), token_id="t", at=AT)
        )
        is None
    )


async def test_corrections_cannot_be_rewritten(store: StoreHandle) -> None:
    fid = await write(store, "s-1", "спасибо")
    await store.transact(
        lambda tx: correct_categories(tx, fid, (Theme.THANKS,), token_id="t", at=AT)
    )
    for sql in (
        "UPDATE feedback_corrections SET token_id = 'x'",
        "DELETE FROM feedback_corrections",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            await store.transact(lambda tx, sql=sql: tx.execute(sql))


async def test_the_list_filters_by_current_theme_topic_and_time(store: StoreHandle) -> None:
    await rules(store, RULES)
    a = await write(store, "s-1", "спасибо", topic="payments", at=AT)
    b = await write(store, "s-2", "ожидание и спасибо", topic="applications", at=AT + 10)
    c = await write(store, "s-3", "ожидание", topic="payments", at=AT + 20)

    async def ids(**filters: object) -> list[int]:
        rows = await store.read(lambda tx: list_feedback(tx, limit=10, **filters))  # type: ignore[arg-type]
        return [r.id for r in rows]

    assert await ids() == [a, b, c]
    assert await ids(category=Theme.THANKS) == [a, b]
    assert await ids(category=Theme.WAIT_TIME, topic="payments") == [c]
    assert await ids(since=AT + 10) == [b, c]
    assert await ids(until=AT + 10) == [a]
    assert await ids(after_id=a) == [b, c]
    await store.transact(lambda tx: correct_categories(tx, a, (Theme.OTHER,), token_id="t", at=AT))
    assert await ids(category=Theme.THANKS) == [b]  # by the current label


async def test_trend_rows_give_each_comment_its_label_and_stems(store: StoreHandle) -> None:
    await rules(store, RULES)
    await write(store, "s-1", "Ожидание, ожидание!", topic="payments", at=AT)
    await write(store, "s-2", "спасибо", at=AT + 100)
    rows = await store.read(lambda tx: trend_rows(tx, since=AT, until=AT + 100))
    assert [(r.topic, r.categories, r.terms) for r in rows] == [
        ("payments", (Theme.WAIT_TIME,), ("ожидан",))
    ]
