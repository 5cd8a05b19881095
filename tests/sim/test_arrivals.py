"""The contacts the simulator hands the router: built fast, equal to what the constructor builds."""

from __future__ import annotations

import pytest

from hotline.routing import Channel, NewContact
from hotline.sim.arrivals import ContactKind


@pytest.mark.parametrize(
    ("topic", "channel", "language", "priority"),
    [("documents", "voice", None, None), ("payments", "callback", "en", "urgent")],
)
def test_a_kind_builds_the_same_new_contact_as_its_constructor(
    topic: str, channel: str, language: str | None, priority: str | None
) -> None:
    kind = ContactKind.of(topic, channel, language, priority)
    built = kind.contact("42")
    expected = NewContact("42", Channel(channel), topic, language, kind.skills, priority)
    assert built == expected
    assert hash(built) == hash(expected)
    assert (built.arrived_at, built.target_at, built.deadline_at) == (None, None, None)
    with pytest.raises(AttributeError):  # still frozen to everyone else
        built.topic = "other"  # type: ignore[misc]
