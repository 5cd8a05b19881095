"""The ticket core stays pure: `hotline/tickets` imports no I/O framework, no pydantic, and
nothing that reads a clock, so the service can call it inside a transaction and Hypothesis can
drive it without a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hotline"
FORBIDDEN = {
    "trio",
    "trio_asyncio",
    "quart",
    "quart_trio",
    "aiosqlite",
    "pydantic",
    "hypercorn",
    "asyncio",
    "time",
    "datetime",
}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((PACKAGE / "tickets").glob("*.py")), ids=lambda p: p.name)
def test_ticket_core_module_imports_no_io_nor_clock(path: Path) -> None:
    assert not _imported_roots(path) & FORBIDDEN
