"""Log lines are one JSON object each, and a phone field is masked whatever the caller passed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hotline import jsonlog
from hotline.jsonlog import JsonLineFormatter, log_event


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("tests.jsonlog")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "created",
    [1_800_000_000.0, 1_800_000_000.0004999, 1_800_000_000.9995, 1_800_000_000.9999996]
    + [1_800_000_000 + n / 7919 for n in range(0, 7919, 97)],
)
def test_the_timestamp_is_utc_to_the_millisecond_as_isoformat_writes_it(created: float) -> None:
    """The formatter keeps the date and time of the last second it wrote; the text is still
    exactly what `datetime.isoformat` makes, across a second's boundary too."""
    formatter = JsonLineFormatter()
    for at in (created - 1.0, created, created + 0.0001):
        record = logging.LogRecord("tests.jsonlog", logging.INFO, "", 0, "e", None, None)
        record.created = at
        expected = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["ts"] == expected


def test_an_event_is_one_json_line_with_its_fields(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    log_event(logger, "contact.enqueued", contact_id="c-1", topic="payments")

    [line] = lines(stream)
    assert line["event"] == "contact.enqueued"
    assert line["level"] == "info"
    assert line["logger"] == "tests.jsonlog"
    assert line["contact_id"] == "c-1"
    assert line["topic"] == "payments"
    assert isinstance(line["ts"], str)


def test_phone_fields_are_masked_even_when_nested(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    log_event(
        logger,
        "voicemail.received",
        phone="+79121234567",
        caller={"callback_phone": "8 912 765 43 21"},
    )

    text = stream.getvalue()
    assert "1234567" not in text and "7654321" not in text
    [line] = lines(stream)
    assert line["phone"] == "+7 912 *** ** 67"
    assert line["caller"] == {"callback_phone": "+7 912 *** ** 21"}


def test_a_field_cannot_overwrite_the_event_name(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    log_event(logger, "real.event", event="forged", level_name="x")

    [line] = lines(stream)
    assert line["event"] == "real.event"


def test_a_plain_log_call_and_an_exception_still_make_one_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("Running on %s", "http://127.0.0.1:1")

    [line] = lines(stream)
    assert line["event"] == "Running on http://127.0.0.1:1"
    assert "RuntimeError: boom" in str(line["exception"])


def test_names_and_tax_numbers_are_hidden_whatever_the_caller_passed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    log_event(
        logger, "identity.checked", inn="500123456750", snils="11223344595", full_name="Иванова"
    )

    [line] = lines(stream)
    assert (line["inn"], line["snils"], line["full_name"]) == ("***", "***", "***")


def test_keys_are_masked_alike_however_often_and_however_many_are_seen(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    # What a key says of its value is remembered per key, in a bounded table: a flood of keys
    # (a logged mapping of anything) neither grows it without end nor changes what is masked.
    logger, stream = captured
    flood = {f"k{n}": n for n in range(5000)}
    for _ in range(2):
        log_event(
            logger,
            "t",
            phone="+79123456789",
            inn="500100732259",
            flood=flood,
            nested={"caller_phone": "+79123456789", "full_name": "Анна", 1: 3},
            after_flood_phone="+79123456789",
        )
    for line in lines(stream):
        assert line["phone"] == line["after_flood_phone"] == "+7 912 *** ** 89"
        assert line["inn"] == "***"
        assert line["nested"] == {"caller_phone": "+7 912 *** ** 89", "full_name": "***", "1": 3}
        assert line["flood"] == {f"k{n}": n for n in range(5000)}
    assert len(jsonlog._KEY_KINDS) <= jsonlog._KEY_KINDS_MAX
