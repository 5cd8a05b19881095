"""`[certification]` and `[scorecards]` of the configuration. Read by `hotline.config` (the
`certification` and `scorecards` keys of `Settings`); services take the plain rules from
`journal_rules()` and `scorecard()`.

- `pass_share`: a test or exam is passed when score / max_score reaches it (per kind);
- `valid_months`: a certification lasts this many calendar months from the earlier of the
  latest passed theory test and practical exam;
- `notice_days`: the supervisors are e-mailed this many days before an operator lapses, at
  `supervisor_email`, by a job that looks every `check_every_min` minutes;
- `[scorecards.NAME]`: sections of weighted yes/no questions; a critical question not met fails
  the evaluation, as does a score below the card's `pass_share`.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from hotline.domain.certification import JournalRules
from hotline.domain.scorecards import Question, Scorecard, Section

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Section(BaseModel):
    # As in `hotline.config`: strict, unknown keys refused, immutable once read.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class PassShares(_Section):
    theory: float = Field(default=0.8, gt=0, le=1)
    practical: float = Field(default=0.8, gt=0, le=1)


class CertificationSettings(_Section):
    pass_share: PassShares = Field(default_factory=PassShares)
    valid_months: int = Field(default=6, ge=1, le=120)
    notice_days: int = Field(default=14, ge=1, le=365)
    supervisor_email: str = Field(
        default="supervisors@example.org", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )
    check_every_min: float = Field(default=60, gt=0)

    def journal_rules(self) -> JournalRules:
        return JournalRules(
            pass_share={"theory": self.pass_share.theory, "practical": self.pass_share.practical},
            valid_months=self.valid_months,
        )


class QuestionSettings(_Section):
    id: Code
    text: str = Field(min_length=1)
    weight: float = Field(default=1, gt=0, strict=False)
    critical: bool = False


class SectionSettings(_Section):
    name: str = Field(min_length=1)
    questions: tuple[QuestionSettings, ...] = Field(min_length=1, strict=False)


class ScorecardSettings(_Section):
    label: str = Field(min_length=1)
    pass_share: float = Field(default=0.8, gt=0, le=1)
    sections: tuple[SectionSettings, ...] = Field(min_length=1, strict=False)

    @model_validator(mode="after")
    def _unique_questions(self) -> Self:
        ids = [q.id for s in self.sections for q in s.questions]
        if len(ids) != len(set(ids)):
            raise PydanticCustomError("scorecard", "question ids repeat within the scorecard")
        return self

    def scorecard(self, name: str) -> Scorecard:
        return Scorecard(
            name=name,
            label=self.label,
            pass_share=self.pass_share,
            sections=tuple(
                Section(
                    s.name,
                    tuple(Question(q.id, q.text, q.weight, q.critical) for q in s.questions),
                )
                for s in self.sections
            ),
        )
