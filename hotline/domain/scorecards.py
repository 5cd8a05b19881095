"""Quality scorecards: a supervisor's evaluation of one handled contact, scored.

Pure. A scorecard (from `[scorecards]` in the configuration) has sections of yes/no questions,
each with a weight; some are critical. An evaluation answers every question: its score is the
weight of the questions met over the weight of all, and it fails when a critical question is not
met or the score is under the card's pass share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    weight: float
    critical: bool


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Scorecard:
    name: str
    label: str
    pass_share: float
    sections: tuple[Section, ...]

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]


@dataclass(frozen=True, slots=True)
class Score:
    share: float  # 0..1, met weight over all weight
    failed_criticals: tuple[str, ...]  # ids of critical questions not met
    passed: bool


def score(card: Scorecard, answers: Mapping[str, bool]) -> Score:
    """Score `answers` (question id -> met); every question answered, no other."""
    questions = card.questions()
    known = {q.id for q in questions}
    for qid in answers:
        if qid not in known:
            raise Invalid(f"no question {qid!r} on scorecard {card.name!r}", field=f"answers.{qid}")
    for q in questions:
        if q.id not in answers:
            raise Invalid("every question is answered", field=f"answers.{q.id}")
    total = sum(q.weight for q in questions)
    met = sum(q.weight for q in questions if answers[q.id])
    failed = tuple(q.id for q in questions if q.critical and not answers[q.id])
    share = met / total
    return Score(share, failed, not failed and share >= card.pass_share)
