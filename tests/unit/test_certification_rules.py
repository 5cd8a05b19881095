"""The journal's rules (hotline.domain.certification) and the scorecards' (hotline.domain.
scorecards), without a store: pass marks, calendar months, corrections, imports, scoring."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.certification import (
    Entry,
    JournalRules,
    add_months,
    certified_instant,
    certified_until,
)
from hotline.domain.errors import Invalid
from hotline.domain.scorecards import Question, Scorecard, Section, score

MSK = ZoneInfo("Europe/Moscow")
RULES = JournalRules(pass_share={"theory": 0.8, "practical": 0.75}, valid_months=6)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=MSK).timestamp()


def test_pass_marks_are_per_kind() -> None:
    assert RULES.passed("theory", 80, 100) and not RULES.passed("theory", 79.9, 100)
    assert RULES.passed("practical", 15, 20) and not RULES.passed("practical", 14, 20)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 3, 15), 6, date(2026, 9, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 7, 31), 18, date(2028, 1, 31)),
    ],
)
def test_calendar_months_clamp_to_the_end_of_the_month(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_the_earlier_of_the_latest_passed_test_and_exam_plus_six_months() -> None:
    entries = [
        Entry(1, "theory", True, at("2026-01-10T10:00")),
        Entry(2, "theory", True, at("2026-03-01T10:00")),  # the latest passed theory
        Entry(3, "theory", False, at("2026-04-01T10:00")),  # a later fail undoes nothing
        Entry(4, "practical", True, at("2026-03-20T10:00")),
    ]
    assert certified_until(entries, RULES, MSK) == date(2026, 9, 1)
    assert certified_until(entries[:3], RULES, MSK) is None  # no practical exam


def test_the_local_date_decides_near_midnight() -> None:
    # 23:30 in Moscow is 20:30 UTC the same day; 00:30 in Moscow is the day before in UTC.
    late = [
        Entry(1, "theory", True, at("2026-03-01T00:30")),
        Entry(2, "practical", True, at("2026-03-02T00:00")),
    ]
    assert certified_until(late, RULES, MSK) == date(2026, 9, 1)
    assert certified_instant(date(2026, 9, 1), MSK) == at("2026-09-02T00:00")


def test_a_corrected_entry_counts_no_more() -> None:
    entries = [
        Entry(1, "theory", True, at("2026-03-01T10:00")),
        Entry(2, "practical", True, at("2026-03-02T10:00")),
        Entry(3, "practical", False, at("2026-03-02T10:00"), corrects=2),
    ]
    assert certified_until(entries, RULES, MSK) is None
    entries.append(Entry(4, "practical", True, at("2026-03-03T10:00"), corrects=3))
    assert certified_until(entries, RULES, MSK) == date(2026, 9, 1)


def test_the_latest_import_counts_and_exams_may_only_carry_further() -> None:
    imports = [
        Entry(1, "imported", True, 0.0, date(2026, 12, 31)),
        Entry(2, "imported", True, 0.0, date(2026, 6, 30)),
    ]
    assert certified_until(imports, RULES, MSK) == date(2026, 6, 30)
    exams = [
        Entry(3, "theory", True, at("2026-05-01T10:00")),
        Entry(4, "practical", True, at("2026-05-02T10:00")),
    ]
    assert certified_until(imports + exams, RULES, MSK) == date(2026, 11, 1)
    old_exams = [
        Entry(3, "theory", True, at("2025-05-01T10:00")),
        Entry(4, "practical", True, at("2025-05-02T10:00")),
    ]
    assert certified_until(imports + old_exams, RULES, MSK) == date(2026, 6, 30)


CARD = Scorecard(
    "call",
    "Разговор",
    0.8,
    (
        Section(
            "Начало", (Question("greeting", "…", 1, False), Question("identity", "…", 3, True))
        ),
        Section("Итог", (Question("answer", "…", 6, False),)),
    ),
)


def test_a_scorecard_weighs_its_questions_and_a_critical_one_fails_it() -> None:
    assert score(CARD, {"greeting": True, "identity": True, "answer": True}).share == 1.0
    partial = score(CARD, {"greeting": False, "identity": True, "answer": True})
    assert (partial.share, partial.passed) == (0.9, True)
    critical = score(CARD, {"greeting": True, "identity": False, "answer": True})
    assert (critical.share, critical.passed, critical.failed_criticals) == (
        0.7,
        False,
        ("identity",),
    )
    low = score(CARD, {"greeting": True, "identity": True, "answer": False})
    assert (low.share, low.passed, low.failed_criticals) == (0.4, False, ())


def test_every_question_is_answered_and_no_other() -> None:
    with pytest.raises(Invalid) as missing:
        score(CARD, {"greeting": True, "identity": True})
    assert missing.value.field == "answers.answer"
    with pytest.raises(Invalid) as unknown:
        score(CARD, {"greeting": True, "identity": True, "answer": True, "mood": True})
    assert unknown.value.field == "answers.mood"
