"""Keyset cursors for the API's lists: opaque to clients, checked when they come back.

A cursor is a letter naming the list (so one list's cursor is refused by another) and the key of
the last row seen, in hex. Lists ask the store for one row more than the page to know whether a
next page exists.
"""

from __future__ import annotations

from hotline.domain.errors import Invalid

MAX_PAGE = 200


def encode_cursor(kind: str, key: int) -> str:
    return f"{kind}{key:x}"


def decode_cursor(kind: str, cursor: str | None) -> int:
    """The key after which the page starts (0 for the first page)."""
    if not cursor:
        return 0
    try:
        if cursor[0] != kind:
            raise ValueError
        return int(cursor[1:], 16)
    except (ValueError, IndexError):
        raise Invalid("not a cursor this server gave out", field="cursor") from None


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))
