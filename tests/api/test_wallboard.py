"""`GET /wallboard` and its two files: public, under a strict Content-Security-Policy, revalidated
by ETag, shipped as package data, and a page that loads nothing the policy would block.

What the page does with the live figures is tested in a browser:
tests/e2e/test_wallboard_browser.py.
"""

from __future__ import annotations

import fnmatch
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from hotline.api.wallboard import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "hotline" / "web"
FILES = {  # path: (file in hotline/web, content type)
    "/wallboard": ("wallboard.html", "text/html; charset=utf-8"),
    "/wallboard/wallboard.css": ("wallboard.css", "text/css; charset=utf-8"),
    "/wallboard/wallboard.js": ("wallboard.js", "text/javascript; charset=utf-8"),
}


class _Page(HTMLParser):
    """What the page loads, and anything in it that the policy would refuse to run."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline: list[str] = []
        self.named_fields: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.inline += [name for name, _ in attrs if name == "style" or name.startswith("on")]
        if tag == "script" and values.get("src") is None:
            self.inline.append("script without src")
        if tag == "style":
            self.inline.append("style element")
        if tag == "script" and values.get("src"):
            self.loads.append(str(values["src"]))
        if tag == "link" and values.get("rel") == "stylesheet":
            self.loads.append(str(values["href"]))
        if tag in ("input", "textarea", "select") and "name" in values:
            self.named_fields.append(str(values["name"]))


@pytest.mark.parametrize("path", sorted(FILES))
async def test_the_page_and_its_files_are_served_without_a_token_under_a_strict_policy(
    app: Quart, path: str
) -> None:
    name, content_type = FILES[path]
    response = await app.test_client().get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-cache"
    assert await response.get_data() == (WEB / name).read_bytes()


def test_the_policy_lets_the_page_reach_only_its_own_origin() -> None:
    rules = dict(rule.split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split("; "))
    assert rules["default-src"] == "'none'"
    assert rules["script-src"] == rules["style-src"] == rules["connect-src"] == "'self'"
    assert rules["form-action"] == rules["frame-ancestors"] == rules["base-uri"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", sorted(FILES))
async def test_a_browser_holding_the_current_file_gets_a_304(app: Quart, path: str) -> None:
    client = app.test_client()
    etag = (await client.get(path)).headers["ETag"]
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert await again.get_data() == b""
    stale = await client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200


async def test_the_page_loads_only_its_own_files_and_runs_no_inline_code(app: Quart) -> None:
    page = _Page()
    page.feed((WEB / "wallboard.html").read_text(encoding="utf-8"))
    assert sorted(page.loads) == ["/wallboard/wallboard.css", "/wallboard/wallboard.js"]
    assert page.inline == []  # the policy allows no inline script, style or handler
    assert page.named_fields == []  # a named field would go into a URL if the form were sent
    for path in page.loads:
        assert (await app.test_client().get(path)).status_code == 200


def test_every_file_of_the_page_is_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["hotline"]
    shipped = [p.relative_to(ROOT / "hotline").as_posix() for p in WEB.iterdir()]
    assert sorted(shipped) == ["web/wallboard.css", "web/wallboard.html", "web/wallboard.js"]
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


async def test_the_document_lists_the_page_as_html_for_anyone(app: Quart) -> None:
    document: dict[str, Any] = await (await app.test_client().get("/openapi.json")).get_json()
    operation = document["paths"]["/wallboard"]["get"]
    assert operation["security"] == []
    assert set(operation["responses"]) == {"200", "304"}
    assert operation["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
