"""Phone numbers are masked before they reach a log: the operator code and a tail, never more."""

from __future__ import annotations

import pytest

from hotline.domain.masking import mask_phone, mask_query


@pytest.mark.parametrize(
    "raw",
    [
        "+79121234567",
        "+7 912 123-45-67",
        "89121234567",
        "8 (912) 123-45-67",
        "9121234567",
        " +7(912)1234567 ",
    ],
)
def test_russian_number_in_any_spelling_is_masked_to_one_form(raw: str) -> None:
    assert mask_phone(raw) == "+7 912 *** ** 67"


def test_moscow_landline_keeps_its_area_code_only() -> None:
    assert mask_phone("+7 495 987-65-43") == "+7 495 *** ** 43"


def test_foreign_number_keeps_plus_and_last_two_digits() -> None:
    assert mask_phone("+44 20 7946 0958") == "+**********58"


@pytest.mark.parametrize("raw", ["", "abc", "112", "12345"])
def test_too_short_or_not_a_number_shows_no_digit(raw: str) -> None:
    masked = mask_phone(raw)
    assert masked and set(masked) == {"*"}


@pytest.mark.parametrize("raw", ["+79121234567", "89997654321", "+44 20 7946 0958"])
def test_the_subscriber_digits_never_survive(raw: str) -> None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    masked_digits = "".join(ch for ch in mask_phone(raw) if ch.isdigit())
    # At most the country code, the 3-digit operator code and a 2-digit tail are shown.
    assert len(masked_digits) <= 6
    assert digits[-7:-2] not in masked_digits


def test_a_history_reads_reason_never_reaches_the_log() -> None:
    logged = mask_query("phone=%2B79123456789&reason=%D0%B6%D0%B0%D0%BB%D0%BE%D0%B1%D0%B0&limit=2")
    assert logged == "phone=+7 912 *** ** 89&reason=***&limit=2"
