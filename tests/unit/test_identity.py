"""INN and SNILS as the identity check sees them: published valid numbers pass, typos fail with a
422 naming the field, the SNILS checksum's edge cases (sums of 100, 101, and above 101 giving 100)
follow the official rule, and the masked forms show no more than the last four digits."""

# Russian names are this file's test data: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.errors import Invalid
from hotline.domain.identity import (
    format_snils,
    mask_inn,
    mask_name,
    mask_snils,
    name_key,
    snils_check_digits,
    validate_inn,
    validate_snils,
)

# --- INN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "inn",
    [
        "7707083893",  # Sberbank
        "7736207543",  # Yandex
        "7830002293",
        "1234567894",  # python-stdnum's examples
        "123456789047",
        "500100732259",  # a person's
    ],
)
def test_published_inns_are_valid(inn: str) -> None:
    assert validate_inn(inn) == inn


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        (" 7707083893 ", "7707083893"),
        ("7707-083-893", "7707083893"),
        ("5001 0073 2259", "500100732259"),
    ],
)
def test_an_inn_typed_with_spaces_or_dashes_comes_out_as_digits(typed: str, digits: str) -> None:
    assert validate_inn(typed) == digits


def _inn_check_10(first9: str) -> str:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return str(sum(w * int(d) for w, d in zip(weights, first9, strict=True)) % 11 % 10)


def _inn_check_12(first10: str) -> str:
    w1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    d1 = str(sum(w * int(d) for w, d in zip(w1, first10, strict=True)) % 11 % 10)
    w2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    d2 = str(sum(w * int(d) for w, d in zip(w2, first10 + d1, strict=True)) % 11 % 10)
    return d1 + d2


@given(st.text("0123456789", min_size=9, max_size=9).filter(lambda s: s.strip("0")))
def test_an_organisations_inn_with_its_check_digit_is_valid_and_any_other_is_not(
    first9: str,
) -> None:
    check = _inn_check_10(first9)
    assert validate_inn(first9 + check) == first9 + check
    for wrong in set("0123456789") - {check}:
        with pytest.raises(Invalid):
            validate_inn(first9 + wrong)


@given(st.text("0123456789", min_size=10, max_size=10).filter(lambda s: s.strip("0")))
def test_a_persons_inn_with_its_check_digits_is_valid(first10: str) -> None:
    inn = first10 + _inn_check_12(first10)
    assert validate_inn(inn) == inn
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    with pytest.raises(Invalid):
        validate_inn(wrong)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("7707083894", "check digits"),
        ("500100732258", "check digits"),
        ("770708389", "10 digits"),
        ("77070838931", "10 digits"),
        ("", "10 digits"),
        ("  ", "10 digits"),
        ("77O7083893", "only digits"),
        (
            "\uff17\uff17\uff10\uff17\uff10\uff18\uff13\uff18\uff19\uff13",
            "only digits",
        ),  # full-width
        ("0000000000", "not a valid INN"),
        ("000000000000", "not a valid INN"),
    ],
)
def test_a_bad_inn_is_invalid_naming_the_field_and_not_the_number(text: str, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate_inn(text)
    assert caught.value.field == "inn"
    assert says in caught.value.message
    assert not text or text not in caught.value.message


def test_the_inn_field_name_can_be_given() -> None:
    with pytest.raises(Invalid) as caught:
        validate_inn("1", field="citizen.inn")
    assert caught.value.field == "citizen.inn"


# --- SNILS -----------------------------------------------------------------------------------


def weighted_sum(first9: str) -> int:
    return sum((9 - i) * int(d) for i, d in enumerate(first9))


def reference_check(first9: str) -> str:
    """The rule as the Pension Fund words it, applied again to the remainder."""
    total = weighted_sum(first9)
    while True:
        if total < 100:
            return f"{total:02d}"
        if total in (100, 101):
            return "00"
        total %= 101


def prefix_with_sum(target: int) -> str:
    """Nine digits, large ones first (so well above 001-001-998), weighing `target`."""
    digits, rest = [], target
    for weight in range(9, 0, -1):
        d = min(9, rest // weight)
        digits.append(str(d))
        rest -= d * weight
    assert rest == 0
    return "".join(digits)


def test_the_published_example_is_valid() -> None:
    assert snils_check_digits("112233445") == "95"
    assert validate_snils("112-233-445 95") == "11223344595"


@pytest.mark.parametrize(
    ("total", "check"),
    [
        (65, "65"),
        (99, "99"),
        (100, "00"),  # exactly 100
        (101, "00"),  # exactly 101
        (102, "01"),  # above 101: mod 101
        (150, "49"),
        (201, "00"),  # above 101 giving 100
        (202, "00"),  # above 101 giving 0
        (302, "00"),  # above 101 giving 100 again
        (303, "00"),
        (405, "01"),  # 999-999-999
    ],
)
def test_the_check_digits_follow_the_official_edge_cases(total: int, check: str) -> None:
    first9 = prefix_with_sum(total)
    assert weighted_sum(first9) == total
    assert int(first9) > 1_001_998
    assert snils_check_digits(first9) == check
    assert validate_snils(first9 + check) == first9 + check


@given(st.integers(1_001_999, 999_999_999))
def test_a_checked_snils_is_valid_with_its_check_digits_only(number: int) -> None:
    first9 = f"{number:09d}"
    check = reference_check(first9)
    assert snils_check_digits(first9) == check
    assert validate_snils(first9 + check) == first9 + check
    wrong = f"{(int(check) + 1 + number % 98) % 100:02d}"
    with pytest.raises(Invalid) as caught:
        validate_snils(first9 + wrong)
    assert caught.value.field == "snils"


def test_every_other_pair_of_check_digits_is_refused() -> None:
    rng = random.Random(11)
    for _ in range(20):
        first9 = f"{rng.randrange(1_001_999, 1_000_000_000):09d}"
        good = reference_check(first9)
        for n in range(100):
            check = f"{n:02d}"
            if check == good:
                continue
            with pytest.raises(Invalid):
                validate_snils(first9 + check)


@pytest.mark.parametrize("check", ["00", "17", "99"])
def test_numbers_up_to_001_001_998_are_not_checked(check: str) -> None:
    assert validate_snils(f"001-001-998 {check}") == f"001001998{check}"
    assert validate_snils(f"000-000-001 {check}") == f"000000001{check}"


def test_the_first_checked_number_is_001_001_999() -> None:
    assert snils_check_digits("001001999") == "65"
    assert validate_snils("001-001-999 65") == "00100199965"
    with pytest.raises(Invalid):
        validate_snils("001-001-999 00")


@pytest.mark.parametrize(
    "typed", ["112-233-445 95", "11223344595", "112 233 445 95", "112-233-445-95", " 112233445 95 "]
)
def test_a_snils_in_any_common_spelling_comes_out_as_digits(typed: str) -> None:
    assert validate_snils(typed) == "11223344595"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("112-233-445 96", "check digits"),
        ("121-233-445 95", "check digits"),  # two digits swapped
        ("112-233-445 9", "11 digits"),
        ("112-233-445 955", "11 digits"),
        ("", "11 digits"),
        ("112-233-445 9S", "only digits"),
        ("000-000-000 00", "not a valid SNILS"),
    ],
)
def test_a_bad_snils_is_invalid_naming_the_field_and_not_the_number(text: str, says: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate_snils(text)
    assert caught.value.field == "snils"
    assert says in caught.value.message
    assert "445" not in caught.value.message


def test_snils_check_digits_need_nine_digits() -> None:
    for bad in ["", "12345678", "1234567890", "12345678a"]:
        with pytest.raises(ValueError):
            snils_check_digits(bad)


def test_a_snils_is_printed_in_its_usual_layout() -> None:
    assert format_snils("11223344595") == "112-233-445 95"
    assert format_snils("112 233 445 95") == "112-233-445 95"
    with pytest.raises(ValueError):
        format_snils("1122334459")


# --- Masking ---------------------------------------------------------------------------------


def test_an_inn_is_masked_to_its_last_four_digits() -> None:
    assert mask_inn("500100732259") == "********2259"
    assert mask_inn("7707083893") == "******3893"
    assert mask_inn("7707 083 893") == "******3893"


def test_a_snils_is_masked_to_its_last_four_digits_in_the_printed_layout() -> None:
    assert mask_snils("11223344595") == "***-***-*45 95"
    assert mask_snils("112-233-445 95") == "***-***-*45 95"


@pytest.mark.parametrize("raw", ["", "abc", "123", "1234567", "1234567890123", "77070838931"])
def test_something_that_is_not_an_inn_shows_no_digit(raw: str) -> None:
    masked = mask_inn(raw)
    assert masked and set(masked) == {"*"}


@pytest.mark.parametrize("raw", ["", "x", "1122334459", "112233445955"])
def test_something_that_is_not_a_snils_shows_no_digit(raw: str) -> None:
    masked = mask_snils(raw)
    assert masked and set(masked) == {"*"}


@given(st.text("0123456789", min_size=11, max_size=11))
def test_a_masked_snils_never_shows_its_first_seven_digits(digits: str) -> None:
    masked = mask_snils(digits)
    assert masked.replace("-", "").replace(" ", "")[:7] == "*" * 7


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Иванов Пётр Сергеевич", "И. П. С."),
        ("  иванов   пётр ", "И. П."),
        ("Римский-Корсаков Николай Андреевич", "Р.-К. Н. А."),
        ("Римский - Корсаков Николай", "Р.-К. Н."),
        ("Smith John", "S. J."),
        ("", ""),
        ("-", ""),
    ],
)
def test_a_name_is_masked_to_initials(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    "spelling",
    ["Иванов Пётр Сергеевич", "  ИВАНОВ  ПЕТР сергеевич ", "иванов\u00a0петр\tсергеевич"],
)
def test_spellings_of_one_name_share_a_key(spelling: str) -> None:
    assert name_key(spelling) == "иванов петр сергеевич"


def test_hyphens_in_a_name_key_lose_their_spaces() -> None:
    assert name_key("Римский - Корсаков") == name_key("римский-корсаков") == "римский-корсаков"


def test_different_names_have_different_keys() -> None:
    assert name_key("Иванов Пётр") != name_key("Иванова Петра")
