"""What an article is, and the rules of changing one: status steps, what an edit changed.

An article (or an answer template: `kind = "template"`) has a title, a Markdown body, topics from
the skill catalogue, tags, a language, a status (`draft` → `published` → `archived`, and back to
`draft` from the archive to be reworked), a date by which it must be reviewed, and an author.
Every edit makes a new version holding the whole article as it then was, with who made it, when,
which fields changed and the editor's note; earlier versions stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date
from enum import StrEnum

from hotline.domain.errors import Conflict, Invalid

__all__ = [
    "EDITABLE",
    "PLACEHOLDERS",
    "ArticleDraft",
    "Kind",
    "Status",
    "changed_fields",
    "check_draft",
    "check_step",
    "placeholders_of",
]


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Kind(StrEnum):
    ARTICLE = "article"
    TEMPLATE = "template"


_STEPS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.PUBLISHED, Status.ARCHIVED}),
    Status.PUBLISHED: frozenset({Status.ARCHIVED}),
    Status.ARCHIVED: frozenset({Status.DRAFT}),
}

# What a template may say: each filled from the contact or ticket it is rendered for.
PLACEHOLDERS = frozenset({"ticket_number", "full_name", "opens_at", "ticket_status", "topic"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """An article's editable content, as a version records it."""

    title: str
    body: str
    topics: tuple[str, ...]
    tags: tuple[str, ...]
    language: str
    status: Status
    review_by: date | None
    kind: Kind

    def with_changes(self, **changes: object) -> ArticleDraft:
        return replace(self, **changes)  # type: ignore[arg-type]


EDITABLE = tuple(f.name for f in fields(ArticleDraft))


def check_step(current: Status, wanted: Status) -> None:
    """Refuse a status change the lifecycle does not have."""
    if wanted != current and wanted not in _STEPS[current]:
        raise Conflict(f"an article cannot go from {current} to {wanted}", field="status")


def placeholders_of(body: str) -> list[str]:
    """The placeholders a template's body names, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(body)))


def check_draft(draft: ArticleDraft, *, topics: frozenset[str], languages: frozenset[str]) -> None:
    """The rules a stored article keeps, whatever made it (the API, an import)."""
    if not draft.title.strip():
        raise Invalid("an article needs a title", field="title")
    if not draft.body.strip():
        raise Invalid("an article needs a body", field="body")
    for topic in draft.topics:
        if topic not in topics:
            raise Invalid(f"unknown topic {topic!r} (not in the skill catalogue)", field="topics")
    if draft.language not in languages:
        raise Invalid(f"unknown language {draft.language!r}", field="language")
    if draft.kind is Kind.TEMPLATE:
        unknown = [p for p in placeholders_of(draft.body) if p not in PLACEHOLDERS]
        if unknown:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise Invalid(f"unknown placeholder {{{unknown[0]}}}; known: {known}", field="body")


def changed_fields(before: ArticleDraft, after: ArticleDraft) -> list[str]:
    """The fields an edit changed, in the article's field order."""
    return [name for name in EDITABLE if getattr(before, name) != getattr(after, name)]
