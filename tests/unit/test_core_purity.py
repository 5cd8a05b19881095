"""The pure core stays pure: no trio, quart, aiosqlite or pydantic below the actor shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hotline"
PURE = ["routing", "domain"]
SHELLS = {"actor.py"}
FORBIDDEN = {"trio", "trio_asyncio", "quart", "quart_trio", "aiosqlite", "pydantic", "hypercorn"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "path",
    [p for d in PURE for p in sorted((PACKAGE / d).glob("*.py")) if p.name not in SHELLS],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_pure_module_imports_no_io_framework(path: Path) -> None:
    assert not _imported_roots(path) & FORBIDDEN
