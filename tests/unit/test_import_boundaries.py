"""Import boundaries that keep the architecture honest.

- The pure core (routing but its actor, domain, the calendar, the ticket lifecycle, SMS texts and
  segments, the voicemail policy) imports no I/O framework: no trio, quart, hypercorn,
  aiosqlite or pydantic.
- asyncio stays inside the store: no module outside `hotline/store` imports aiosqlite,
  trio_asyncio or asyncio, so the rest of the process is trio alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hotline"
PURE_DIRS = ["routing", "domain", "schedule", "tickets"]
# The trio or pydantic shells beside a pure core, and the pure modules of mixed packages.
SHELLS = {"routing/actor.py", "schedule/settings.py"}
PURE_FILES = [
    "notify/segments.py",
    "notify/templates.py",
    "voicemail/audio.py",
    "voicemail/policy.py",
]
NOT_IN_CORE = {"trio", "trio_asyncio", "quart", "quart_trio", "aiosqlite", "pydantic", "hypercorn"}
ONLY_IN_STORE = {"aiosqlite", "trio_asyncio", "asyncio"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _ids(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize(
    "path",
    [
        *(
            p
            for d in PURE_DIRS
            for p in sorted((PACKAGE / d).glob("*.py"))
            if _ids(p) not in SHELLS
        ),
        *(PACKAGE / f for f in PURE_FILES),
    ],
    ids=_ids,
)
def test_pure_module_imports_no_io_framework(path: Path) -> None:
    assert not _imported_roots(path) & NOT_IN_CORE


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(PACKAGE.rglob("*.py")) if "store" not in p.relative_to(PACKAGE).parts],
    ids=_ids,
)
def test_module_outside_the_store_imports_no_asyncio(path: Path) -> None:
    assert not _imported_roots(path) & ONLY_IN_STORE
