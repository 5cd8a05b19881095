"""Import boundaries that keep the architecture honest.

- The pure core (routing but its actor, domain, the calendar, the ticket lifecycle, SMS texts and
  segments, the voicemail policy) imports no I/O framework: no trio, quart, hypercorn,
  aiosqlite or pydantic.
- asyncio stays inside the store: no module outside `hotline/store` imports aiosqlite,
  trio_asyncio or asyncio, so the rest of the process is trio alone.
- Use cases live in `hotline/services` (voicemail's in `services/voicemails`) and sit above the
  domain packages: a service may import `hotline.voicemail`'s pure parts (policy, audio,
  recordings, settings, wakeup), never its watcher; `hotline/voicemail` never imports a service,
  except its watcher, the task that runs the callbacks' retries and repairs. No service imports
  the HTTP edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hotline"
PURE_DIRS = ["routing", "domain", "schedule", "tickets", "quality", "kb"]
# The trio or pydantic shells beside a pure core, and the pure modules of mixed packages.
SHELLS = {"routing/actor.py", "schedule/settings.py"}
PURE_FILES = [
    "notify/segments.py",
    "notify/templates.py",
    "sim/erlang.py",
    "sim/staffing.py",
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


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(names: set[str], *packages: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in packages)}


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


VOICEMAIL_RUNS_SERVICES = {"voicemail/watcher.py"}  # the task that runs the callbacks' use cases


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted((PACKAGE / "voicemail").glob("*.py"))
        if _ids(p) not in VOICEMAIL_RUNS_SERVICES
    ],
    ids=_ids,
)
def test_voicemail_parts_import_no_service(path: Path) -> None:
    assert not _under(_imported_modules(path), "hotline.services", "hotline.api")


@pytest.mark.parametrize("path", sorted((PACKAGE / "services").rglob("*.py")), ids=_ids)
def test_services_import_neither_the_watcher_nor_the_edge(path: Path) -> None:
    assert not _under(_imported_modules(path), "hotline.voicemail.watcher", "hotline.api")
