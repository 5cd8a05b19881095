"""Log lines are one JSON object each, and a phone field is masked whatever the caller passed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

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
