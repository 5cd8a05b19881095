"""Keyset cursors for the API's lists: opaque to clients, checked when they come back.

A cursor is a letter naming the list (so one list's cursor is refused by another) and the key of
the last row seen, in hex. Lists ask the store for one row more than the page to know whether a
next page exists.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hotline.domain.errors import Invalid

T = TypeVar("T")

MAX_PAGE = 200
MAX_KEY = 2**63 - 1  # SQLite's largest integer: a key past it cannot be bound to a query
_CURSOR = re.compile(r"([a-z])([0-9a-f]{1,16})")


def encode_cursor(kind: str, key: int) -> str:
    return f"{kind}{key:x}"


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The key after which the page starts (0 for the first page)."""
    if not cursor:
        return 0
    match = _CURSOR.fullmatch(cursor)
    key = int(match[2], 16) if match is not None and match[1] == kind else -1
    if not 0 <= key <= MAX_KEY:
        raise Invalid("not a cursor this server gave out", field="cursor")
    return key


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


async def read_page(
    kind: str,
    cursor: str | None,
    limit: int,
    fetch: Callable[[int, int], Awaitable[list[T]]],
    key: Callable[[T], int],
) -> tuple[list[T], str | None]:
    """One page of list `kind`: `fetch(after, n)` reads up to `n` rows whose key is past
    `after`, in key order. The page's rows, and the cursor of the next page (None on the last)."""
    size = page_size(limit)
    rows = await fetch(decode_cursor(kind, cursor), size + 1)
    if len(rows) <= size:
        return rows, None
    del rows[size:]
    return rows, encode_cursor(kind, key(rows[-1]))
