"""`/v1/kb`: the knowledge base over HTTP, and `POST /v1/contacts/{id}/articles`.

Articles and templates are written by supervisors and editors (`POST`/`PUT /v1/kb/articles`),
each write a new version (`GET .../versions`); operators read published ones and search them
(`GET /v1/kb/search`), render templates for a contact or ticket, and record which article they
used on a contact and whether it helped. `GET /v1/kb/reports` is the editors' view of it all.
"""

# ruff: noqa: RUF002

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import Code, Day, Request, Response, Text, instant
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.errors import NotFound
from hotline.kb.articles import ArticleDraft, Kind, Status
from hotline.services import kb, kb_search, kb_templates
from hotline.services.paging import MAX_KEY
from hotline.store.kb import ArticleRow, VersionRow

blueprint = Blueprint("kb", __name__, url_prefix="/v1")

Title = Annotated[Text, StringConstraints(min_length=1, max_length=300)]
# Within the 64 KiB body limit ([http] max_body_kib) even in Cyrillic: a longer text is a 422.
Body = Annotated[Text, StringConstraints(min_length=1, max_length=20_000)]
Tag = Annotated[Text, StringConstraints(min_length=1, max_length=64)]
Note = Annotated[Text, StringConstraints(max_length=1_000)]
Topics = Annotated[list[Code], Field(max_length=20)]
Tags = Annotated[list[Tag], Field(max_length=50)]
ArticleId = Annotated[int, Field(ge=1, le=MAX_KEY, strict=True)]
ContactId = Annotated[Text, StringConstraints(min_length=1, max_length=64)]
_ID = "<article_id>"


def _key(text: str) -> int:
    """An id from the path: 1 to SQLite's largest integer, else nothing is there (404).
    Parsed here, not by an `int` converter: werkzeug answers a PUT to an id past a converter's
    maximum with a 405 naming GET, the method of the rule that shares the path."""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_KEY:
        raise NotFound("no such article")
    return int(text)


def _date_text(value: object) -> object:
    # A date is "YYYY-MM-DD" on the wire: pydantic would otherwise read 0 as 1970-01-01.
    if not isinstance(value, str | date):
        raise ValueError("a date as YYYY-MM-DD")
    return value


ReviewBy = Annotated[Day, BeforeValidator(_date_text)]


def _when(epoch: float) -> datetime:
    moment = instant(epoch)
    assert moment is not None
    return moment


# -- bodies -----------------------------------------------------------------------------------


class ArticleIn(Request):
    title: Title
    body: Body = Field(description="Markdown; a template's placeholders are {name}")
    topics: Topics = Field(default_factory=list, description="topic codes of the skill catalogue")
    tags: Tags = Field(default_factory=list)
    language: Code = "ru"
    status: Literal["draft", "published"] = "draft"
    review_by: ReviewBy | None = None
    kind: Literal["article", "template"] = "article"
    author: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="default: the token's name"
    )
    note: Note = ""


class ArticleChange(Request):
    """The fields to change; those left out keep their value."""

    title: Title | None = None
    body: Body | None = None
    topics: Topics | None = None
    tags: Tags | None = None
    language: Code | None = None
    status: Literal["draft", "published", "archived"] | None = None
    review_by: ReviewBy | None = None
    kind: Literal["article", "template"] | None = None
    version: ArticleId | None = Field(
        default=None, description="the version edited: 409 if the article has moved on"
    )
    note: Note = Field(default="", description="what changed and why, kept with the version")


class ArticleOut(Response):
    id: int
    kind: str
    title: str
    body: str
    topics: list[str]
    tags: list[str]
    language: str
    status: str
    review_by: date | None
    author: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ArticleRow) -> ArticleOut:
        return cls(
            id=row.id,
            **_draft_fields(row.draft),
            author=row.author,
            version=row.version,
            created_at=_when(row.created_at),
            updated_at=_when(row.updated_at),
        )


def _draft_fields(d: ArticleDraft) -> dict[str, Any]:
    """An article's own fields as an article and each of its versions show them."""
    return {
        "kind": d.kind.value,
        "title": d.title,
        "body": d.body,
        "topics": list(d.topics),
        "tags": list(d.tags),
        "language": d.language,
        "status": d.status.value,
        "review_by": d.review_by,
    }


class ArticlePage(Response):
    articles: list[ArticleOut]
    next_cursor: str | None


class ArticleQuery(Request):
    status: Literal["draft", "published", "archived"] | None = None
    kind: Literal["article", "template"] | None = None
    topic: Code | None = None
    language: Code | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[Text, StringConstraints(max_length=40)] | None = None


class VersionOut(Response):
    article_id: int
    version: int
    at: datetime
    editor: str
    changed: list[str] = Field(description="the fields this version changed ('created' first)")
    note: str
    kind: str
    title: str
    body: str
    topics: list[str]
    tags: list[str]
    language: str
    status: str
    review_by: date | None

    @classmethod
    def of(cls, v: VersionRow) -> VersionOut:
        return cls(
            article_id=v.article_id,
            version=v.version,
            at=_when(v.at),
            editor=v.editor,
            changed=v.changed,
            note=v.note,
            **_draft_fields(v.draft),
        )


class VersionList(Response):
    versions: list[VersionOut]


class SearchQuery(Request):
    q: Annotated[Text, StringConstraints(min_length=1, max_length=500)]
    topic: Code | None = None
    language: Code | None = None
    limit: int = Field(default=10, ge=1, le=50)
    contact_id: ContactId | None = Field(
        default=None, description="the contact this search is for (ties it to a later use)"
    )


class FoundOut(Response):
    id: int
    title: str
    snippet: str = Field(description="HTML-escaped text, matches in <mark>…</mark>")
    score: float = Field(description="bm25: lower is a better match")
    topics: list[str]
    language: str
    version: int


class SearchOut(Response):
    articles: list[FoundOut]
    corrections: dict[str, list[str]] = Field(
        description="query words not in the index, and the indexed stems they were read as"
    )


class UseIn(Request):
    article_id: ArticleId
    helpful: bool = Field(strict=True)


class UseOut(Response):
    contact_id: str
    article_id: int
    version: int
    helpful: bool
    searches_answered: int


class RenderIn(Request):
    contact_id: ContactId | None = None
    ticket_number: Annotated[Text, StringConstraints(min_length=1, max_length=32)] | None = None


class RenderOut(Response):
    template_id: int
    version: int
    text: str
    ticket_number: str | None


class ReportQuery(Request):
    days: int = Field(default=30, ge=1, le=366)


class UsedOut(Response):
    article_id: int
    title: str
    uses: int
    helpful: int


class GapOut(Response):
    query: str = Field(description="the query's words, as searched")
    searches: int
    found_nothing: int
    last_at: datetime
    example: str


class DueOut(Response):
    article_id: int
    title: str
    review_by: date
    author: str


class ReportsOut(Response):
    since: datetime
    most_used: list[UsedOut]
    least_helpful: list[UsedOut]
    no_answer: list[GapOut]
    past_review: list[DueOut]


# -- routes -----------------------------------------------------------------------------------


@blueprint.post("/kb/articles")
@validate_request(ArticleIn)
@validate_response(ArticleOut, 201)
async def create_article(data: ArticleIn) -> tuple[ArticleOut, int]:
    """A new article or template, version 1 (supervisor, editor)."""
    draft = ArticleDraft(
        title=data.title,
        body=data.body,
        topics=tuple(data.topics),
        tags=tuple(data.tags),
        language=data.language,
        status=Status(data.status),
        review_by=data.review_by,
        kind=Kind(data.kind),
    )
    row = await kb.create_article(
        current_services(), await caller(), draft, author=data.author, note=data.note
    )
    return ArticleOut.of(row), 201


@blueprint.get("/kb/articles")
@validate_querystring(ArticleQuery)
@validate_response(ArticlePage)
async def index_articles(query_args: ArticleQuery) -> ArticlePage:
    """Articles by id, filtered; an operator sees published ones only."""
    rows, cursor = await kb.list_article_page(
        current_services(),
        await caller(),
        status=query_args.status,
        kind=query_args.kind,
        topic=query_args.topic,
        language=query_args.language,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return ArticlePage(articles=[ArticleOut.of(r) for r in rows], next_cursor=cursor)


@blueprint.get(f"/kb/articles/{_ID}")
@validate_response(ArticleOut)
async def show_article(article_id: str) -> ArticleOut:
    return ArticleOut.of(await kb.get_article(current_services(), await caller(), _key(article_id)))


@blueprint.put(f"/kb/articles/{_ID}")
@validate_request(ArticleChange)
@validate_response(ArticleOut)
@may_answer(409)
async def edit_article(article_id: str, data: ArticleChange) -> ArticleOut:
    """Change an article: a new version records who, when, which fields and the note
    (supervisor, editor). Status steps: draft → published → archived → draft."""
    given = data.model_dump(exclude_unset=True, exclude={"version", "note"})
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if value is None and name != "review_by":
            continue
        if name in ("topics", "tags"):
            value = tuple(value)
        elif name == "status":
            value = Status(value)
        elif name == "kind":
            value = Kind(value)
        changes[name] = value
    row = await kb.edit_article(
        current_services(),
        await caller(),
        _key(article_id),
        changes,
        expected_version=data.version,
        note=data.note,
    )
    return ArticleOut.of(row)


@blueprint.get(f"/kb/articles/{_ID}/versions")
@validate_response(VersionList)
async def versions(article_id: str) -> VersionList:
    """Every version of the article, oldest first."""
    found = await kb.list_versions(current_services(), await caller(), _key(article_id))
    return VersionList(versions=[VersionOut.of(v) for v in found])


@blueprint.get(f"/kb/articles/{_ID}/versions/<version>")
@validate_response(VersionOut)
async def show_version(article_id: str, version: str) -> VersionOut:
    found = await kb.get_version(
        current_services(), await caller(), _key(article_id), _key(version)
    )
    return VersionOut.of(found)


@blueprint.get("/kb/search")
@validate_querystring(SearchQuery)
@validate_response(SearchOut)
async def search(query_args: SearchQuery) -> SearchOut:
    """Published articles answering `q`, best first (bm25, the title above the body), with
    Russian and English word forms, ё = е, misspellings corrected, the last word as a prefix."""
    answer = await kb_search.search(
        current_services(),
        await caller(),
        query_args.q,
        topic=query_args.topic,
        language=query_args.language,
        limit=query_args.limit,
        contact_id=query_args.contact_id,
    )
    return SearchOut(
        articles=[
            FoundOut(
                id=f.id,
                title=f.title,
                snippet=f.snippet,
                score=f.score,
                topics=f.topics,
                language=f.language,
                version=f.version,
            )
            for f in answer.articles
        ],
        corrections=answer.corrections,
    )


@blueprint.post("/kb/templates/<template_id>/render")
@validate_request(RenderIn)
@validate_response(RenderOut)
async def render(template_id: str, data: RenderIn) -> RenderOut:
    """A template's text for a contact or a ticket (supervisor, operator); a placeholder with
    no value is a 422 naming it."""
    out = await kb_templates.render_template(
        current_services(),
        await caller(),
        _key(template_id),
        contact_id=data.contact_id,
        ticket_number=data.ticket_number,
    )
    return RenderOut(
        template_id=out.template_id,
        version=out.version,
        text=out.text,
        ticket_number=out.ticket_number,
    )


@blueprint.post("/contacts/<contact_id>/articles")
@validate_request(UseIn)
@validate_response(UseOut, 201)
async def use_article(contact_id: str, data: UseIn) -> tuple[UseOut, int]:
    """The article used on this contact and whether it helped (operator who took it,
    supervisor)."""
    use = await kb_search.record_use(
        current_services(), await caller(), contact_id, data.article_id, helpful=data.helpful
    )
    return UseOut(
        contact_id=use.contact_id,
        article_id=use.article_id,
        version=use.version,
        helpful=use.helpful,
        searches_answered=use.searches_answered,
    ), 201


@blueprint.get("/kb/reports")
@validate_querystring(ReportQuery)
@validate_response(ReportsOut)
async def reports(query_args: ReportQuery) -> ReportsOut:
    """Most used and least helpful articles, questions with no answer, articles past their
    review date (supervisor, editor)."""
    r = await kb_search.reports(current_services(), await caller(), days=query_args.days)
    return ReportsOut(
        since=_when(r.since),
        most_used=[
            UsedOut(article_id=u.article_id, title=u.title, uses=u.uses, helpful=u.helpful)
            for u in r.most_used
        ],
        least_helpful=[
            UsedOut(article_id=u.article_id, title=u.title, uses=u.uses, helpful=u.helpful)
            for u in r.least_helpful
        ],
        no_answer=[
            GapOut(
                query=g.query,
                searches=g.searches,
                found_nothing=g.found_nothing,
                last_at=_when(g.last_at),
                example=g.example,
            )
            for g in r.no_answer
        ],
        past_review=[
            DueOut(
                article_id=d.article_id,
                title=d.title,
                review_by=date.fromisoformat(d.review_by),
                author=d.author,
            )
            for d in r.past_review
        ],
    )
