"""SMS segment counting against known vectors: GSM-7 160/153 with its extension table counted
as two septets and never split, UCS-2 70/67 for Cyrillic, emoji as surrogate pairs no part
splits."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.notify.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentCount,
    SmsEncoding,
    count_segments,
    is_gsm7,
)

GSM, UCS2 = SmsEncoding.GSM7, SmsEncoding.UCS2
EMOJI = "\U0001f600"  # outside the BMP: a surrogate pair in UTF-16
CYR = "\u0436"  # a Cyrillic letter (zhe)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_holds_160_alone_and_153_per_part(length: int, segments: int) -> None:
    assert count_segments("a" * length) == SegmentCount(GSM, length, segments)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_cyrillic_goes_as_ucs2_70_alone_and_67_per_part(length: int, segments: int) -> None:
    assert count_segments(CYR * length) == SegmentCount(UCS2, length, segments)


def test_a_real_russian_sms_is_ucs2() -> None:
    text = "Ваше обращение HL-7K3-M9Q-X2C принято."
    assert count_segments(text) == SegmentCount(UCS2, len(text), 1)


def test_one_cyrillic_letter_turns_a_latin_text_into_ucs2() -> None:
    assert count_segments("a" * 100).segments == 1
    assert count_segments("a" * 100 + CYR) == SegmentCount(UCS2, 101, 2)


@pytest.mark.parametrize("ch", list("€[]{}^~\\|\f"))
def test_each_extension_character_costs_two_septets(ch: str) -> None:
    assert count_segments(ch) == SegmentCount(GSM, 2, 1)
    assert count_segments("a" * 158 + ch) == SegmentCount(GSM, 160, 1)
    assert count_segments("a" * 159 + ch) == SegmentCount(GSM, 161, 2)


def test_eighty_euro_signs_fill_one_message_and_eighty_one_need_two() -> None:
    assert count_segments("€" * 80) == SegmentCount(GSM, 160, 1)
    assert count_segments("€" * 81) == SegmentCount(GSM, 162, 2)


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 septets, then "[" would take septets 153-154: it opens the second part instead.
    text = "a" * 152 + "[" + "a" * 152
    assert count_segments(text) == SegmentCount(GSM, 306, 3)
    # At 151 it fits the first part exactly, and the whole is two parts.
    assert count_segments("a" * 151 + "[" + "a" * 153) == SegmentCount(GSM, 306, 2)


def test_extension_characters_at_every_part_boundary() -> None:
    text = ("a" * 152 + "{") * 3
    # Every part holds 152 a's and hands its brace to the next: 4 parts for 462 septets.
    assert count_segments(text) == SegmentCount(GSM, 462, 4)


def test_the_gsm_alphabets_special_characters_stay_gsm7() -> None:
    text = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r"
    assert count_segments(text) == SegmentCount(GSM, len(text), 1)


@pytest.mark.parametrize("ch", ["`", "ç", "á", "—", "«", "№", "\u00a0", "\t", "\x1b", CYR])
def test_characters_outside_gsm7_make_it_ucs2(ch: str) -> None:
    assert not is_gsm7("abc" + ch)
    assert count_segments("abc" + ch).encoding is UCS2


def test_the_default_alphabet_has_127_characters_besides_the_escape() -> None:
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_an_emoji_is_two_utf16_units() -> None:
    assert count_segments(EMOJI) == SegmentCount(UCS2, 2, 1)
    assert count_segments(EMOJI * 35) == SegmentCount(UCS2, 70, 1)
    assert count_segments(EMOJI * 36) == SegmentCount(UCS2, 72, 2)


def test_a_surrogate_pair_is_not_split_across_parts() -> None:
    # 66 units, then the pair would take units 67-68: it opens the second part.
    text = CYR * 66 + EMOJI + CYR * 66
    assert count_segments(text) == SegmentCount(UCS2, 134, 3)
    assert count_segments(CYR * 65 + EMOJI + CYR * 67) == SegmentCount(UCS2, 134, 2)


def test_an_empty_text_is_still_one_message() -> None:
    assert count_segments("") == SegmentCount(GSM, 0, 1)


@given(st.text(st.sampled_from(sorted(GSM7_BASIC)), max_size=800))
def test_plain_gsm7_text_needs_ceil_of_153_parts_past_160(text: str) -> None:
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert count_segments(text) == SegmentCount(GSM, len(text), expected)


@given(st.text(st.characters(min_codepoint=0x400, max_codepoint=0x4FF), min_size=1, max_size=500))
def test_cyrillic_text_needs_ceil_of_67_parts_past_70(text: str) -> None:
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert count_segments(text) == SegmentCount(UCS2, len(text), expected)


@given(st.text(max_size=600))
def test_any_text_fits_its_parts_and_needs_no_fewer(text: str) -> None:
    count = count_segments(text)
    if count.encoding is GSM:
        assert count.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
        single, part = 160, 153
    else:
        assert count.units == len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if count.units <= single:
        assert count.segments == 1
    else:
        # At least the ideal packing; at most one unit lost per part to an unsplit pair.
        assert math.ceil(count.units / part) <= count.segments
        assert count.units <= count.segments * part
        assert count.units >= (count.segments - 1) * (part - 1) + 1


def test_the_segment_counter_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "hotline" / "notify" / "segments.py"
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "collections", "dataclasses", "enum"}
