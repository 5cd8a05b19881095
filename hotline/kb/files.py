"""Articles from files: JSON lines, or a folder of Markdown files with front matter.

Used by `hotline import-kb FILE` and by the starter base (`hotline/kb/starter/*.md`). A Markdown
file opens with a block between `---` lines of `key: value` pairs (a list as `[a, b, c]`), then
the body:

    ---
    slug: access-recovery
    title: Как восстановить доступ к личному кабинету
    topics: [access_recovery, account_blocked]
    tags: [забыл пароль, не могу войти]
    status: published
    review_by: 2027-06-01
    ---
    Текст статьи в Markdown…

A JSON line is an object with the same keys and `body`. `slug` names the article across imports:
importing a slug again makes a new version of that article, not a second one. Every record is
read and checked for shape before anything is written; a bad one stops the import, naming its
file, line and key. Whether topics and languages exist is the service's check (it knows the
configuration).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hotline.kb.articles import ArticleDraft, Kind, Status

__all__ = ["ArticleFileError", "ImportedArticle", "read_articles", "read_markdown_folder"]

KEYS = frozenset(
    {"slug", "title", "body", "topics", "tags", "language", "status", "review_by", "kind", "author"}
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_FRONT_LINE = re.compile(r"^([a-z_]+):\s*(.*)$")


class ArticleFileError(ValueError):
    """A record that cannot be imported, with where it is."""


@dataclass(frozen=True, slots=True)
class ImportedArticle:
    slug: str
    draft: ArticleDraft
    author: str | None


def read_articles(path: Path) -> list[ImportedArticle]:
    """The articles of a JSON-lines file or of a folder of `*.md` files."""
    if path.is_dir():
        return read_markdown_folder(path)
    articles = []
    for line, raw in _json_lines(path):
        articles.append(_article(raw, f"{path}:{line}"))
    _no_duplicates(articles, str(path))
    return articles


def read_markdown_folder(folder: Path) -> list[ImportedArticle]:
    articles = []
    for file in sorted(folder.glob("*.md")):
        raw = _markdown(file)
        raw.setdefault("slug", file.stem)
        articles.append(_article(raw, str(file)))
    _no_duplicates(articles, str(folder))
    return articles


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    with path.open(encoding="utf-8-sig") as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as e:
                raise ArticleFileError(f"{path}:{number}: not JSON ({e.msg})") from None
            if not isinstance(raw, dict):
                raise ArticleFileError(f"{path}:{number}: a line must be a JSON object")
            yield number, raw


def _markdown(file: Path) -> dict[str, object]:
    lines = file.read_text(encoding="utf-8-sig").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleFileError(f"{file}:1: a Markdown article opens with '---' front matter")
    raw: dict[str, object] = {}
    for number, text in enumerate(lines[1:], 2):
        if text.strip() == "---":
            raw["body"] = "\n".join(lines[number:]).strip() + "\n"
            return raw
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        match = _FRONT_LINE.match(text)
        if match is None:
            raise ArticleFileError(f"{file}:{number}: front matter lines are 'key: value'")
        key, value = match[1], match[2].strip()
        if value.startswith("[") and value.endswith("]"):
            raw[key] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
        else:
            raw[key] = value.strip("'\"")
    raise ArticleFileError(f"{file}: the front matter has no closing '---'")


def _article(raw: dict[str, object], where: str) -> ImportedArticle:
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ArticleFileError(f"{where}: unknown key {unknown[0]!r}")
    slug = _text(raw, "slug", where)
    if not _SLUG.match(slug):
        raise ArticleFileError(f"{where}: slug: lower-case letters, digits, '-' and '_'")
    try:
        status = Status(str(raw.get("status", Status.PUBLISHED)))
        kind = Kind(str(raw.get("kind", Kind.ARTICLE)))
    except ValueError as e:
        raise ArticleFileError(f"{where}: {e}") from None
    review = raw.get("review_by")
    try:
        review_by = date.fromisoformat(str(review)) if review not in (None, "") else None
    except ValueError:
        raise ArticleFileError(f"{where}: review_by: a date YYYY-MM-DD") from None
    draft = ArticleDraft(
        title=_text(raw, "title", where),
        body=_text(raw, "body", where),
        topics=_list(raw, "topics", where),
        tags=_list(raw, "tags", where),
        language=str(raw.get("language", "ru")),
        status=status,
        review_by=review_by,
        kind=kind,
    )
    author = raw.get("author")
    return ImportedArticle(slug, draft, None if author is None else str(author))


def _text(raw: dict[str, object], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise ArticleFileError(f"{where}: {key}: a non-empty text is required")
    return value.strip() if key != "body" else value


def _list(raw: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ArticleFileError(f"{where}: {key}: a list of texts")
    return tuple(value)


def _no_duplicates(articles: list[ImportedArticle], where: str) -> None:
    seen: set[str] = set()
    for article in articles:
        if article.slug in seen:
            raise ArticleFileError(f"{where}: slug {article.slug!r} appears twice")
        seen.add(article.slug)
