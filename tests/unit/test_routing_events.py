"""The routing core builds its per-decision events with fast constructors (`model.offered` and
the like) instead of calling the dataclasses: each must give the very event its class gives,
every field set (a field added to a class and forgotten in its constructor fails here)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hotline.routing.model import (
    Accepted,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Offered,
    OperatorChanged,
    OperatorState,
    accepted,
    ended,
    enqueued,
    offered,
    operator_changed,
)

CASES: list[tuple[Any, Any, tuple[Any, ...]]] = [
    (
        Enqueued,
        enqueued,
        ("c1", 10.0, Channel.CHAT, "tax", "en", "urgent", 9.0, 300.0, 600.0, ("tax", "vip")),
    ),
    (Offered, offered, ("c1", "op7", 10.0, 25.0)),
    (Accepted, accepted, ("c1", "op7", 12.0, 3.5)),
    (Ended, ended, ("c1", 40.0, ContactState.TRANSFERRED, "op7", "c2")),
    (Ended, ended, ("c1", 40.0, ContactState.ABANDONED, None, None)),
    (OperatorChanged, operator_changed, ("op7", 12.0, OperatorState.WRAP_UP, "completed")),
]


@pytest.mark.parametrize(("cls", "build", "args"), CASES)
def test_a_fast_constructor_builds_the_event_its_class_builds(
    cls: Any, build: Any, args: tuple[Any, ...]
) -> None:
    fast, slow = build(*args), cls(*args)
    assert type(fast) is cls
    assert fast == slow
    for field in dataclasses.fields(cls):  # `note` too, which equality leaves out
        assert getattr(fast, field.name) == getattr(slow, field.name), field.name
    assert repr(fast) == repr(slow)
