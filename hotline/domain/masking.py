"""Masking of personal data before it reaches a log line or an API listing.

Pure functions, used by the log formatter (`hotline.jsonlog`) for every phone field and later by
API listings. They never raise: a value that is not a phone number is masked whole rather than
shown, because a log line must not fail nor leak.
"""

from __future__ import annotations

_SHOWN_TAIL = 2  # enough for an operator to tell two numbers apart, too little to dial one


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
