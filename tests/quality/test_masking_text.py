"""Numbers in citizens' free text, as the feedback list shows them: phones, INN and SNILS masked
wherever they stand; dates, sums and short numbers as written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.masking import mask_personal_numbers


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Мой ИНН 500100732259, проверьте", "Мой ИНН **********59, проверьте"),
        ("ИНН организации 7707083893.", "ИНН организации ********93."),
        ("СНИЛС 112-233-445 95", "СНИЛС ***-***-*** 95"),
        ("снилс 11223344595", "снилс *********95"),
        ("звоните +7 912 345-67-89", "звоните +7 912 *** ** 89"),
        ("или 8(912)3456789!", "или +7 912 *** ** 89!"),
        ("с 2026-12-01 по 10 12 числа", "с 2026-12-01 по 10 12 числа"),
        ("заявление 555-777 на 1500 рублей", "заявление 555-777 на 1500 рублей"),
        ("код c_f3a1234567890b", "код c_f3a1234567890b"),
    ],
)
def test_personal_numbers_are_masked_and_the_rest_kept(text: str, shown: str) -> None:
    assert mask_personal_numbers(text) == shown


@settings(max_examples=60)
@given(
    st.text(alphabet="абв ,.", max_size=8),
    st.sampled_from(["+7", "8", ""]),
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    st.text(alphabet="абв ,.", max_size=8),
)
def test_no_phone_keeps_its_subscriber_digits(
    before: str, prefix: str, national: str, after: str
) -> None:
    phone = f"{prefix} ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    shown = mask_personal_numbers(f"{before} {phone} {after}")
    assert national[3:8] not in shown.replace(" ", "").replace("-", "")
