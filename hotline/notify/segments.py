"""How many SMS a text costs: GSM 03.38 (7-bit) when every character is in the default
alphabet or its extension table, UCS-2 otherwise.

Called by the SMS sender (`hotline.notify.sender`) to record what a message was billed, and by
`hotline.notify.templates.validate_templates` at start-up to refuse a template that could run
past the configured cap. Pure: text in, a `SegmentCount` out.

- GSM-7: a single message holds 160 septets; a long one is split into parts of 153 (the rest
  carries the concatenation header). A character of the extension table (`€ [ ] { } ^ ~ \\ |`
  and form feed) is an escape plus a code: two septets, never split across two parts.
- UCS-2: 70 UTF-16 code units in a single message, 67 per part. A character outside the Basic
  Multilingual Plane (most emoji) takes two units, a surrogate pair no part may split.
- National language shift tables (Turkish, Portuguese, ...) are not used: Russian text is UCS-2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# GSM 03.38 default alphabet, in code order; 0x1B (the escape to the extension table) left out.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


class SmsEncoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True, slots=True)
class SegmentCount:
    """`units` are septets (GSM-7) or UTF-16 code units (UCS-2); `segments` the messages billed,
    1 for an empty text."""

    encoding: SmsEncoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True if `text` can go as GSM-7 (default alphabet and extension table only)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def count_segments(text: str) -> SegmentCount:
    """The encoding an SMS of `text` goes in, its length in that encoding's units, and how many
    messages it is billed as."""
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return _count(SmsEncoding.GSM7, costs, GSM7_SINGLE, GSM7_PART)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _count(SmsEncoding.UCS2, costs, UCS2_SINGLE, UCS2_PART)


def _count(encoding: SmsEncoding, costs: list[int], single: int, part: int) -> SegmentCount:
    units = sum(costs)
    segments = 1 if units <= single else _parts(costs, part)
    return SegmentCount(encoding, units, segments)


def _parts(costs: Iterable[int], per_part: int) -> int:
    """Parts needed when no character (an escape pair, a surrogate pair) may straddle two."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts
