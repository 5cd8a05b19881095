"""Phone numbers enter in any common spelling and leave as E.164; SMS go only to Russian mobiles.
A bad number is a 422 naming the field it came in, and never repeats the number."""

from __future__ import annotations

import pytest

from hotline.domain.errors import Invalid
from hotline.domain.masking import mask_phone
from hotline.domain.phones import (
    PHONE_CACHE_SIZE,
    _e164,
    is_russian_mobile,
    normalize_phone,
    require_sms_phone,
)


@pytest.mark.parametrize(
    "typed",
    [
        "8 (912) 345-67-89",
        "+7 912 345 67 89",
        "+7(912)345-67-89",
        "89123456789",
        "79123456789",
        "9123456789",
        " +7 912 345-6789 ",
        "8-912-345-67-89",
    ],
)
def test_a_russian_mobile_in_any_spelling_becomes_e164(typed: str) -> None:
    assert normalize_phone(typed) == "+79123456789"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+7 (495) 123-45-67", "+74951234567"),
        ("8 800 555-35-35", "+78005553535"),
        ("+380 44 123 4567", "+380441234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_landlines_toll_free_and_foreign_numbers_are_normalised_too(typed: str, e164: str) -> None:
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "abc", "112", "+7 912 345", "8 (912) 345-67-89-00-11", "+999 123 456 78"],
)
def test_garbage_is_invalid_naming_the_field(garbage: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_phone(garbage, field="callback_phone")
    assert caught.value.field == "callback_phone"


def test_the_field_is_phone_unless_told() -> None:
    with pytest.raises(Invalid) as caught:
        normalize_phone("not a phone")
    assert caught.value.field == "phone"


def test_an_error_does_not_repeat_the_number() -> None:
    with pytest.raises(Invalid) as caught:
        require_sms_phone("+7 495 123-45-67")
    assert "495" not in caught.value.message and "4567" not in caught.value.message


@pytest.mark.parametrize("e164", ["+79123456789", "+79001234567", "+79581234567", "+79990000000"])
def test_russian_mobile_numbers_are_recognised(e164: str) -> None:
    assert is_russian_mobile(e164)


@pytest.mark.parametrize(
    "e164",
    [
        "+74951234567",  # Moscow landline
        "+78005553535",  # toll-free
        "+77011234567",  # Kazakhstan shares +7
        "+380441234567",
        "+7912",
        "89123456789",  # not E.164: no region is assumed here
        "garbage",
        "",
    ],
)
def test_anything_else_is_not_a_russian_mobile(e164: str) -> None:
    assert not is_russian_mobile(e164)


def test_an_sms_phone_is_the_e164_form_of_a_russian_mobile() -> None:
    assert require_sms_phone("8 (912) 345-67-89") == "+79123456789"


@pytest.mark.parametrize("typed", ["+7 495 123-45-67", "8 800 555-35-35", "+7 701 123 45 67"])
def test_an_sms_phone_refuses_landlines_and_foreign_mobiles(typed: str) -> None:
    with pytest.raises(Invalid) as caught:
        require_sms_phone(typed, field="phone")
    assert caught.value.field == "phone"
    assert "mobile" in caught.value.message


def test_an_sms_phone_refuses_garbage_naming_the_field() -> None:
    with pytest.raises(Invalid) as caught:
        require_sms_phone("call me", field="sms_to")
    assert caught.value.field == "sms_to"


def test_a_normalised_phone_masks_like_the_typed_one() -> None:
    # One masking for logs, whichever form reached the log line.
    assert mask_phone(normalize_phone("8 (912) 345-67-89")) == mask_phone("8 (912) 345-67-89")


def test_the_cache_of_parsed_numbers_is_bounded() -> None:
    # Every new caller's number passes through it: it must not grow with the line's history.
    for n in range(PHONE_CACHE_SIZE + 500):
        normalize_phone(f"+7912{n:07d}")
    assert _e164.cache_info().currsize <= PHONE_CACHE_SIZE <= 10_000
