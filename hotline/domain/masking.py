"""Masking of personal data before it reaches a log line or an API listing.

Pure functions, used by the log formatter (`hotline.jsonlog`) for every phone field and later by
API listings. They never raise: a value that is not a phone number is masked whole rather than
shown, because a log line must not fail nor leak.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

_SHOWN_TAIL = 2  # enough for an operator to tell two numbers apart, too little to dial one
_MIN_PHONE_DIGITS = 7  # a local number without its area code; fewer is an id, a count, a year
_PHONE_CHARS = frozenset("0123456789+-() ")
# A run of phone characters that is not part of a longer word: `/v1/x/+7 912 345-67-89/` and
# `tel:89123456789` hold one, the hex id `c_f3a1234567890b` does not.
_PHONE_RUN = re.compile(r"(?<![0-9A-Za-z])\+?[0-9(][0-9()\- +]*[0-9](?![0-9A-Za-z])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # `?from=2026-12-01` is not a phone


def mask_phone(raw: str) -> str:
    """`+7 912 *** ** 67` for a Russian number in any common spelling (+7…, 8…, or ten digits,
    with spaces, dashes or brackets); other numbers keep `+` and their last two digits."""
    digits = "".join(ch for ch in raw if ch.isascii() and ch.isdigit())
    plus = raw.lstrip().startswith("+")
    national = _russian_national(digits, plus)
    if national is not None:
        # The operator/region code says little about the person; the subscriber part is hidden.
        return f"+7 {national[:3]} *** ** {national[-_SHOWN_TAIL:]}"
    if len(digits) < 6:
        # Too short to be a phone number: showing a tail could show most of a short code.
        return "*" * max(len(digits), 3)
    return ("+" if plus else "") + "*" * (len(digits) - _SHOWN_TAIL) + digits[-_SHOWN_TAIL:]


def _russian_national(digits: str, plus: bool) -> str | None:
    """The ten national digits of a Russian number, or None if it is not one."""
    if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and not plus)):
        return digits[1:]
    if len(digits) == 10 and not plus:
        return digits
    return None


def looks_like_phone(text: str) -> bool:
    """Only phone characters, and enough digits to dial someone."""
    digits = sum(ch.isdigit() for ch in text)
    return digits >= _MIN_PHONE_DIGITS and all(ch in _PHONE_CHARS for ch in text)


def mask_path(path: str) -> str:
    """A URL path for a log line, each phone number in it masked; the rest as it was."""
    return _PHONE_RUN.sub(_mask_run, path)


def mask_query(query: str) -> str:
    """A decoded query string for a log line: the value of `phone` (or `…_phone`) masked, and any
    value that holds a phone number; `phone=+7 912 *** ** 67&limit=2`."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{mask_path(key)}={_masked_value(key, value)}" for key, value in pairs)


# Query parameters of free text, which may name a person (a history read's `reason`): hidden whole.
_FREE_TEXT = frozenset({"reason"})


def _masked_value(key: str, value: str) -> str:
    if key == "phone" or key.endswith("_phone"):
        return mask_phone(value)
    if key in _FREE_TEXT:
        return "***"
    return mask_path(value)


def _mask_run(match: re.Match[str]) -> str:
    run = match[0]
    return mask_phone(run) if looks_like_phone(run) and not _DATE.fullmatch(run) else run


# -- numbers in free text (feedback comments) -----------------------------------------------------

# A run of digits with the separators people type inside numbers (spaces, dashes, brackets), not
# part of a longer word.
_NUMBER_RUN = re.compile(r"(?<![0-9A-Za-z])\+?[0-9(][0-9()\- ]*[0-9](?![0-9A-Za-z])")
_SNILS = re.compile(r"[0-9]{3}-[0-9]{3}-[0-9]{3}[ -][0-9]{2}")
_INN_DIGITS = (10, 12)  # a company's INN and a person's
_SNILS_DIGITS = 11


def mask_personal_numbers(text: str) -> str:
    """A citizen's free text for a listing: phone numbers, INN (10 or 12 digits) and SNILS
    (`123-456-789 01` or 11 digits) masked wherever they stand; the words and short numbers (a
    date, a sum, an application's number of fewer than seven digits) as written. An 11-digit run
    that is a Russian phone number is shown as a phone (`+7 912 *** ** 67`), else as a SNILS."""
    return _NUMBER_RUN.sub(_mask_number, text)


def _mask_number(match: re.Match[str]) -> str:
    run = match[0]
    if _DATE.fullmatch(run):
        return run
    digits = "".join(ch for ch in run if ch.isdigit())
    if _SNILS.fullmatch(run.strip()):
        return "***-***-*** " + digits[-_SHOWN_TAIL:]
    plus = run.lstrip().startswith("+")
    if len(digits) in _INN_DIGITS and not plus and digits.isdigit() and run.strip() == digits:
        return "*" * (len(digits) - _SHOWN_TAIL) + digits[-_SHOWN_TAIL:]
    if len(digits) == _SNILS_DIGITS and not plus and digits[0] not in "78":
        return "*" * (len(digits) - _SHOWN_TAIL) + digits[-_SHOWN_TAIL:]
    if len(digits) >= _MIN_PHONE_DIGITS:
        return mask_phone(run)
    return run
