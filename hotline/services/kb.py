"""Knowledge-base articles: write (supervisors and editors), read (operators too), versions,
imports, and the starter base a fresh install gets.

Every write is one transaction holding the article's row, its new version and its search-index
entry, so an acknowledged edit is on disk and searchable together. An operator reads published
articles only: a draft or an archived article is, to an operator, not there (404).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import as_file, files
from typing import Any

from hotline.config import Settings
from hotline.domain.errors import Conflict, Forbidden, Invalid, NotFound
from hotline.kb.articles import ArticleDraft, Status, changed_fields, check_draft, check_step
from hotline.kb.files import ImportedArticle, read_markdown_folder
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.paging import read_page
from hotline.store import StoreHandle, Tx
from hotline.store import kb as kb_store
from hotline.store.kb import ArticleRow, Editor, VersionRow

__all__ = [
    "ImportCounts",
    "create_article",
    "edit_article",
    "get_article",
    "get_version",
    "import_articles",
    "install_starter",
    "list_article_page",
    "list_versions",
]

WRITERS = (Role.SUPERVISOR, Role.EDITOR)
READERS = (Role.SUPERVISOR, Role.EDITOR, Role.OPERATOR)
STARTER_AUTHOR = "hotline (starter base)"
# An import that writes this many articles merges the search index into one segment after.
OPTIMIZE_AFTER = 100


def _editor(principal: Principal) -> Editor:
    return Editor(principal.name, principal.token_id)


def _check(settings: Settings, draft: ArticleDraft) -> None:
    check_draft(
        draft,
        topics=frozenset(settings.topics),
        languages=frozenset(settings.languages.accepted),
    )


async def create_article(
    sv: Services,
    principal: Principal,
    draft: ArticleDraft,
    *,
    author: str | None = None,
    note: str = "",
) -> ArticleRow:
    principal.require(*WRITERS)
    _check(sv.settings, draft)
    if draft.status is Status.ARCHIVED:
        raise Invalid("a new article is a draft or published", field="status")
    at = sv.clock.now()

    async def work(tx: Tx) -> ArticleRow:
        article_id = await kb_store.insert_article(
            tx,
            draft,
            slug=None,
            author=author or principal.name,
            editor=_editor(principal),
            note=note,
            at=at,
        )
        row = await kb_store.get_article(tx, article_id)
        assert row is not None
        return row

    return await sv.store.transact(work)


async def edit_article(
    sv: Services,
    principal: Principal,
    article_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
    note: str = "",
) -> ArticleRow:
    """Apply `changes` (field → new value) as a new version. With `expected_version`, refuse
    (409) if someone else's edit came first."""
    principal.require(*WRITERS)
    at = sv.clock.now()
    settings = sv.settings

    async def work(tx: Tx) -> ArticleRow:
        row = await kb_store.get_article(tx, article_id)
        if row is None:
            raise NotFound("no such article")
        if expected_version is not None and expected_version != row.version:
            raise Conflict(
                f"the article is at version {row.version}, not {expected_version}: read it again",
                field="version",
                extra={"version": row.version},
            )
        draft = row.draft.with_changes(**changes)
        check_step(row.draft.status, draft.status)
        _check(settings, draft)
        changed = changed_fields(row.draft, draft)
        if not changed:
            return row  # nothing changed: no new version
        await kb_store.update_article(
            tx,
            article_id,
            draft,
            version=row.version + 1,
            editor=_editor(principal),
            changed=changed,
            note=note,
            at=at,
        )
        updated = await kb_store.get_article(tx, article_id)
        assert updated is not None
        return updated

    return await sv.store.transact(work)


def _visible(principal: Principal, row: ArticleRow | None) -> ArticleRow:
    if row is None or (
        principal.role is Role.OPERATOR and row.draft.status is not Status.PUBLISHED
    ):
        raise NotFound("no such article")
    return row


async def get_article(sv: Services, principal: Principal, article_id: int) -> ArticleRow:
    principal.require(*READERS)
    row = await sv.store.read(lambda tx: kb_store.get_article(tx, article_id), snapshot=False)
    return _visible(principal, row)


async def list_article_page(
    sv: Services,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    topic: str | None,
    language: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ArticleRow], str | None]:
    principal.require(*READERS)
    if principal.role is Role.OPERATOR:
        if status not in (None, Status.PUBLISHED):
            raise Forbidden("an operator reads published articles only", field="status")
        status = Status.PUBLISHED

    async def fetch(after: int, n: int) -> list[ArticleRow]:
        return await sv.store.read(
            lambda tx: kb_store.list_articles(
                tx,
                status=status,
                kind=kind,
                topic=topic,
                language=language,
                after_id=after,
                limit=n,
            ),
            snapshot=False,
        )

    return await read_page("k", cursor, limit, fetch, lambda r: r.id)


async def list_versions(sv: Services, principal: Principal, article_id: int) -> list[VersionRow]:
    principal.require(*READERS)

    async def work(tx: Tx) -> list[VersionRow]:
        _visible(principal, await kb_store.get_article(tx, article_id))
        return await kb_store.list_versions(tx, article_id)

    return await sv.store.read(work)


async def get_version(
    sv: Services, principal: Principal, article_id: int, version: int
) -> VersionRow:
    principal.require(*READERS)

    async def work(tx: Tx) -> VersionRow:
        _visible(principal, await kb_store.get_article(tx, article_id))
        found = await kb_store.get_version(tx, article_id, version)
        if found is None:
            raise NotFound("no such version of this article")
        return found

    return await sv.store.read(work)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int


async def import_articles(
    store: StoreHandle,
    settings: Settings,
    articles: Sequence[ImportedArticle],
    *,
    editor: Editor,
    at: float,
) -> ImportCounts:
    """Write `articles` in one transaction: a new slug is a new article, a known one a new
    version of it (none when nothing changed). Every article is checked first; one that breaks
    a rule stops the import (nothing written), naming its slug."""
    for article in articles:
        try:
            _check(settings, article.draft)
        except Invalid as e:
            raise Invalid(f"{article.slug}: {e.message}", field=e.field) from None

    return await store.transact(lambda tx: _import(tx, articles, editor=editor, at=at))


async def _import(
    tx: Tx,
    articles: Sequence[ImportedArticle],
    *,
    editor: Editor,
    at: float,
    update_existing: bool = True,
) -> ImportCounts:
    known = await kb_store.articles_by_slug(tx, [a.slug for a in articles])
    new = [
        kb_store.NewArticle(a.slug, a.draft, a.author or editor.name)
        for a in articles
        if a.slug not in known
    ]
    await kb_store.insert_new_articles(tx, new, editor=editor, note="imported", at=at)
    created, updated, unchanged = len(new), 0, 0
    for article in articles:
        row = known.get(article.slug)
        if row is None:
            continue
        if not update_existing:
            unchanged += 1
            continue
        changed = changed_fields(row.draft, article.draft)
        if not changed:
            unchanged += 1
            continue
        await kb_store.update_article(
            tx,
            row.id,
            article.draft,
            version=row.version + 1,
            editor=editor,
            changed=changed,
            note="imported",
            at=at,
        )
        updated += 1
    if created + updated >= OPTIMIZE_AFTER:
        await kb_store.optimize_index(tx)
    return ImportCounts(created, updated, unchanged)


@lru_cache(maxsize=1)
def starter_articles() -> tuple[ImportedArticle, ...]:
    """The starter base shipped in the package (`hotline/kb/starter/*.md`), read once."""
    with as_file(files("hotline.kb").joinpath("starter")) as folder:
        return tuple(read_markdown_folder(folder))


async def install_starter(
    store: StoreHandle, settings: Settings, *, at: float | None = None
) -> int:
    """Install the starter base if the migration that made the knowledge base asked for it
    (once per database); the number of articles written."""
    when = time.time() if at is None else at
    articles = [
        a for a in starter_articles() if set(a.draft.topics) <= set(settings.topics)
    ]  # a deployer's catalogue without a starter topic skips that article, not the start
    editor = Editor(STARTER_AUTHOR, "starter")

    async def work(tx: Tx) -> int:
        if await tx.fetchone("SELECT 1 FROM kb_pending WHERE what = 'starter'") is None:
            return 0
        # An article the deployer imported under a starter's slug first is theirs: kept.
        counts = await _import(tx, articles, editor=editor, at=when, update_existing=False)
        await tx.execute("DELETE FROM kb_pending WHERE what = 'starter'")
        return counts.created + counts.updated

    return await store.transact(work)
