"""Ticket numbers: the shape a citizen reads out, what typing mistakes are forgiven, and that
every single-symbol typo and every swap of two symbols is caught before a lookup."""

from __future__ import annotations

import random
import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.errors import Invalid
from hotline.tickets import new_number, parse_number
from hotline.tickets.numbers import ALPHABET, NUMBER_LENGTH, RANDOM_BITS

SHAPE = re.compile(r"HL-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}-[0-9A-HJKMNP-TV-Z]{3}")
forty_bits = st.integers(0, (1 << RANDOM_BITS) - 1)


def number_from(value: int) -> str:
    return new_number(lambda bits: value)


def symbols_of(number: str) -> str:
    return number.replace("-", "")[2:]


def with_symbols(symbols: str) -> str:
    return f"HL-{symbols[:3]}-{symbols[3:6]}-{symbols[6:]}"


def test_the_alphabet_is_crockfords_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


@given(forty_bits)
def test_a_new_number_has_the_dictation_shape_and_parses_to_itself(value: int) -> None:
    number = number_from(value)
    assert SHAPE.fullmatch(number)
    assert len(number) == NUMBER_LENGTH
    assert parse_number(number) == number


def test_the_random_source_is_asked_for_forty_bits() -> None:
    asked: list[int] = []

    def rand(bits: int) -> int:
        asked.append(bits)
        return 12345

    new_number(rand)
    assert asked == [40]


def test_by_default_numbers_come_from_secrets() -> None:
    numbers = {new_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(SHAPE.fullmatch(n) for n in numbers)
    assert new_number.__defaults__ == (secrets.randbits,)


@pytest.mark.parametrize("value", [-1, 1 << 40])
def test_a_random_source_out_of_range_is_a_programming_error(value: int) -> None:
    with pytest.raises(ValueError):
        new_number(lambda bits: value)


@given(forty_bits, forty_bits)
def test_different_values_give_different_numbers(a: int, b: int) -> None:
    assert (number_from(a) == number_from(b)) == (a == b)


@pytest.mark.parametrize(
    "typed",
    [
        "hl-{a}-{b}-{c}",
        "HL {a} {b} {c}",
        "HL{a}{b}{c}",
        "{a}-{b}-{c}",
        "{a}{b}{c}",
        "  hl \u2013 {a} \u2014 {b} - {c}  ",
        "\u041dL-{a}-{b}-{c}",  # a Cyrillic EN in the prefix
    ],
)
def test_case_spaces_dashes_and_the_prefix_do_not_matter(typed: str) -> None:
    number = number_from(0x12_3456_789A)
    s = symbols_of(number)
    assert parse_number(typed.format(a=s[:3], b=s[3:6], c=s[6:])) == number


def test_o_i_and_l_are_read_as_zero_and_one() -> None:
    number = next(n for n in (number_from(v) for v in range(1000)) if "0" in n and "1" in n)
    typed = symbols_of(number).replace("0", "O").replace("1", "l")
    assert parse_number(typed) == number
    assert parse_number(typed.replace("l", "I")) == number


def test_cyrillic_look_alikes_are_read_as_latin() -> None:
    rng = random.Random(7)
    latin_to_cyrillic = str.maketrans("ABEKMHPCTYX", "АВЕКМНРСТУХ")  # noqa: RUF001
    for _ in range(200):
        number = new_number(rng.getrandbits)
        assert parse_number(number.translate(latin_to_cyrillic).lower()) == number


@pytest.mark.parametrize(
    "text",
    ["", "HL", "HL-123", "HL-7K3-M9Q-X2C-1", "HL-7K3-M9Q-X2CX", "XX-7K3-M9Q-X2C0", "HL-7K3-M9Q"],
)
def test_a_wrong_length_is_invalid_naming_the_number(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_number(text)
    assert caught.value.field == "number"


@pytest.mark.parametrize("bad", ["U", "*", "Ж", "#", "é"])
def test_a_symbol_outside_the_alphabet_is_invalid(bad: str) -> None:
    s = symbols_of(number_from(99))
    with pytest.raises(Invalid) as caught:
        parse_number(with_symbols(bad + s[1:]))
    assert caught.value.field == "number"


@given(forty_bits, st.integers(0, 8), st.sampled_from(ALPHABET))
def test_every_single_symbol_typo_is_caught(value: int, position: int, typed: str) -> None:
    s = symbols_of(number_from(value))
    if typed == s[position]:
        return
    wrong = s[:position] + typed + s[position + 1 :]
    with pytest.raises(Invalid, match="typo") as caught:
        parse_number(wrong)
    assert caught.value.field == "number"


@given(forty_bits, st.integers(0, 7))
def test_every_swap_of_adjacent_symbols_is_caught(value: int, position: int) -> None:
    s = symbols_of(number_from(value))
    if s[position] == s[position + 1]:
        return
    swapped = s[:position] + s[position + 1] + s[position] + s[position + 2 :]
    with pytest.raises(Invalid, match="typo"):
        parse_number(swapped)


def test_every_typo_and_swap_is_caught_exhaustively_on_sample_numbers() -> None:
    rng = random.Random(2024)
    for _ in range(50):
        s = symbols_of(new_number(rng.getrandbits))
        variants = {s[:i] + c + s[i + 1 :] for i in range(9) for c in ALPHABET}
        variants |= {
            s[:i] + s[j] + s[i + 1 : j] + s[i] + s[j + 1 :]
            for i in range(9)
            for j in range(i + 1, 9)
        }
        variants.discard(s)
        for variant in variants:
            with pytest.raises(Invalid):
                parse_number(variant)


def test_a_typo_error_says_nothing_but_that_it_is_a_typo() -> None:
    s = symbols_of(number_from(5))
    wrong = ("1" if s[0] != "1" else "2") + s[1:]
    with pytest.raises(Invalid) as caught:
        parse_number(wrong)
    assert wrong not in caught.value.message
