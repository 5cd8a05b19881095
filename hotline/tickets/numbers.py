"""Ticket numbers: `HL-7K3-M9Q-X2C`, short enough to dictate, with a check character.

The ticket service calls `new_number()` when it creates a ticket (and draws again in the rare case
the store already has it) and `parse_number()` on every number a person typed, before any lookup.

- Eight symbols carry a random 40-bit value, so a number says nothing about any other ticket:
  neither how many there are nor which came before. Randomness comes from `secrets` unless a
  caller (a test) passes its own source.
- The alphabet is Crockford's base 32: digits and letters without I, L, O and U, so what is read
  out over the phone is what gets typed; O, I and L typed by mistake are read as 0, 1 and 1.
- The ninth symbol is a check character over GF(32): the weighted sum of all nine symbols, with
  distinct non-zero weights, is zero. One wrong symbol changes the sum by a non-zero product,
  and two swapped symbols (adjacent or not) by (w_i + w_j)(d_i + d_j), non-zero too: every such
  typo is caught. (ISO 7064's hybrid MOD 33,32 on this alphabet misses some swaps, and
  MOD 37,36 and Crockford's own mod-37 symbol need characters outside it.)

Pure: no I/O; `Invalid` (field "number") for anything that is not a well-formed number.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from hotline.domain.errors import Invalid

PREFIX = "HL"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_BITS = 40
_DATA_SYMBOLS = RANDOM_BITS // 5
SYMBOLS = _DATA_SYMBOLS + 1  # with the check character
_GROUP = 3
# "HL-" and three groups of three joined by dashes.
NUMBER_LENGTH = len(PREFIX) + 1 + SYMBOLS + SYMBOLS // _GROUP - 1

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# What people type for what they mean: Crockford's confusables, and the Cyrillic capitals that
# look like Latin ones, typed on a Russian layout by someone copying the number by eye. Input is
# upper-cased first.
_READ_AS = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        "\u0410": "A",
        "\u0412": "B",
        "\u0415": "E",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u041e": "0",
        "\u0420": "P",
        "\u0421": "C",
        "\u0422": "T",
        "\u0423": "Y",
        "\u0425": "X",
    }
)
_SEPARATORS = str.maketrans(
    dict.fromkeys(" \t\r\n\u00a0-\u2010\u2011\u2012\u2013\u2014\u2212_.", None)
)

# GF(32) as polynomials over GF(2) modulo x^5 + x^2 + 1, which is primitive: powers of x run
# through all 31 non-zero elements.
_FIELD_POLY = 0b100101
_EXP: list[int] = []
_element = 1
for _ in range(31):
    _EXP.append(_element)
    _element <<= 1
    if _element & 0b100000:
        _element ^= _FIELD_POLY
_LOG = {element: power for power, element in enumerate(_EXP)}
# Data symbol i weighs x^(i+1); the check symbol weighs 1 = x^0. All distinct and non-zero.
_WEIGHTS = tuple(_EXP[i + 1] for i in range(_DATA_SYMBOLS))

RandomBits = Callable[[int], int]


def _times(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 31]


def _check_value(data: list[int]) -> int:
    # Addition in GF(2^5) is XOR, and -c = c: the check is the weighted sum of the data.
    check = 0
    for weight, value in zip(_WEIGHTS, data, strict=True):
        check ^= _times(weight, value)
    return check


def _format(symbols: str) -> str:
    groups = [symbols[i : i + _GROUP] for i in range(0, len(symbols), _GROUP)]
    return "-".join([PREFIX, *groups])


def new_number(rand: RandomBits = secrets.randbits) -> str:
    """A fresh ticket number from `rand(40)` (a random 40-bit integer, `secrets` by default).
    Unique only with high probability: the store's primary key is the judge."""
    value = rand(RANDOM_BITS)
    if not 0 <= value < 1 << RANDOM_BITS:
        raise ValueError(f"the random source gave {value}, not a {RANDOM_BITS}-bit value")
    data = [(value >> (5 * (_DATA_SYMBOLS - 1 - i))) & 31 for i in range(_DATA_SYMBOLS)]
    symbols = "".join(ALPHABET[v] for v in data) + ALPHABET[_check_value(data)]
    return _format(symbols)


def parse_number(text: str) -> str:
    """The canonical form (`HL-7K3-M9Q-X2C`) of a number as a person typed it: any case, with or
    without the prefix, spaces or dashes, O for 0, I or L for 1, Cyrillic look-alikes for Latin.
    `Invalid` (field "number") if it cannot be a ticket number or a character was mistyped."""
    compact = text.translate(_SEPARATORS).upper()
    if len(compact) == SYMBOLS + len(PREFIX) and compact.translate(_READ_AS).startswith("H1"):
        # "HL" (its H maybe Cyrillic): the prefix, taken off before L would be read as 1.
        compact = compact[len(PREFIX) :]
    symbols = compact.translate(_READ_AS)
    if len(symbols) != SYMBOLS:
        raise Invalid(
            f"a ticket number has {SYMBOLS} letters and digits, like HL-7K3-M9Q-X2C",
            field="number",
        )
    if any(s not in _VALUE for s in symbols):
        raise Invalid(
            "a ticket number has only digits and the Latin letters A-Z but I, L, O and U",
            field="number",
        )
    data = [_VALUE[s] for s in symbols[:_DATA_SYMBOLS]]
    if _check_value(data) != _VALUE[symbols[-1]]:
        raise Invalid("this is not a valid ticket number: check it for a typo", field="number")
    return _format(symbols)
