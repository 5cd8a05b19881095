"""The offer board's live feeds do not pile up: a feed whose reader left is dropped when the
operator opens the next one, not only when news comes (an operator may reconnect all day with
no offer in between)."""

from __future__ import annotations

import trio

from hotline.routing.model import Event
from hotline.services.offers import OfferBoard


async def test_feeds_whose_reader_left_are_dropped_at_the_next_listen() -> None:
    _, feed = trio.open_memory_channel[Event](0)
    board = OfferBoard(feed)
    for _ in range(100):
        board.listen("op-1").close()  # a stream that ended: its client went away
    live = board.listen("op-1")
    # The board's table of feeds, read directly: nothing else shows how many it holds.
    assert len(board._listeners["op-1"]) == 1
    live.close()
