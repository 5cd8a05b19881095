"""Identity numbers and names of citizens: INN and SNILS checked by their checksums, and masked
forms of them for logs and listings.

Called by the identity check (`POST /v1/identity/check`), by `hotline import-citizens` when it
reads the register, and by whatever logs or lists a citizen. Pure: no I/O. A number that fails
its rules is `Invalid` naming the field ("inn", "snils"), and no message ever repeats the number.

- INN (ИНН): 10 digits for an organisation, 12 for a person; python-stdnum checks it.
- SNILS (СНИЛС): 11 digits, nine and two check digits, with the Pension Fund's algorithm written
  out here (stdnum has none): the first nine digits weighted 9 down to 1 and summed; a sum under
  100 is the check number, 100 and 101 give 00, a larger sum is taken mod 101 (100 again giving
  00). Numbers up to 001-001-998 predate the check and are not checked.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.ru import inn as stdnum_inn

from hotline.domain.errors import Invalid

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_SNILS_DIGITS = 11
_SNILS_UNCHECKED_UP_TO = 1_001_998  # 001-001-998: the first numbers, issued before the checksum
_SNILS_WEIGHTS = range(9, 0, -1)
_SHOWN_TAIL = 4  # enough to tell two records apart; the rest stays hidden
_HYPHENS = re.compile(r"\s*[\-\u2010-\u2015]\s*")


_INN_LENGTH = "an INN has 10 digits (an organisation) or 12 (a person)"


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text)


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def validate_inn(text: str, *, field: str = "inn") -> str:
    """The INN as its digits (`"7707083893"`), spaces and dashes taken out; `Invalid` naming
    `field` if it has other characters, the wrong length or wrong check digits."""
    digits = _compact(text)
    if not digits:
        raise Invalid(_INN_LENGTH, field=field)
    if not _is_ascii_digits(digits):
        # stdnum would fold other scripts' digits (full-width...) into ASCII ones; we keep what
        # was typed, so it must be ASCII already.
        raise Invalid("an INN has only digits", field=field)
    try:
        stdnum_inn.validate(digits)
    except InvalidLength:
        raise Invalid(_INN_LENGTH, field=field) from None
    except InvalidChecksum:
        raise Invalid(
            "the INN's check digits do not match: check it for a typo", field=field
        ) from None
    except ValidationError:
        raise Invalid("not a valid INN", field=field) from None
    if not digits.strip("0"):
        raise Invalid("not a valid INN", field=field)
    return digits


def snils_check_digits(first_nine: str) -> str:
    """The two check digits of a SNILS whose first nine digits are `first_nine`, by the official
    algorithm (whatever the number: see `validate_snils` for the ones that are not checked)."""
    if len(first_nine) != 9 or not _is_ascii_digits(first_nine):
        raise ValueError("a SNILS check is computed over nine digits")
    total = sum(
        weight * int(digit) for weight, digit in zip(_SNILS_WEIGHTS, first_nine, strict=True)
    )
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def validate_snils(text: str, *, field: str = "snils") -> str:
    """The SNILS as its 11 digits (`"11223344595"`) from any common spelling (`112-233-445 95`);
    `Invalid` naming `field` for other characters, the wrong length or wrong check digits."""
    digits = _compact(text)
    if digits and not _is_ascii_digits(digits):
        raise Invalid("a SNILS has only digits", field=field)
    if len(digits) != _SNILS_DIGITS:
        raise Invalid("a SNILS has 11 digits", field=field)
    if not digits.strip("0"):
        raise Invalid("not a valid SNILS", field=field)
    if int(digits[:9]) > _SNILS_UNCHECKED_UP_TO and snils_check_digits(digits[:9]) != digits[9:]:
        raise Invalid("the SNILS check digits do not match: check it for a typo", field=field)
    return digits


def format_snils(snils: str) -> str:
    """`112-233-445 95`, the way a SNILS is printed, from its 11 digits in any spelling."""
    digits = _compact(snils)
    if len(digits) != _SNILS_DIGITS or not _is_ascii_digits(digits):
        raise ValueError("format_snils takes the 11 digits of a SNILS")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isascii() and ch.isdigit())


def mask_inn(raw: str) -> str:
    """`********4567` for a 12-digit INN (`******3893` for a 10-digit one): only the last four
    digits shown. Never raises: anything that is not an INN's length is masked whole."""
    digits = _digits(raw)
    if len(digits) not in (10, 12):
        return "*" * max(len(digits), 3)
    return "*" * (len(digits) - _SHOWN_TAIL) + digits[-_SHOWN_TAIL:]


def mask_snils(raw: str) -> str:
    """`***-***-*45 95`: only the last four digits shown, in the printed layout. Never raises:
    anything that is not eleven digits is masked whole."""
    digits = _digits(raw)
    if len(digits) != _SNILS_DIGITS:
        return "*" * max(len(digits), 3)
    shown = "*" * (_SNILS_DIGITS - _SHOWN_TAIL) + digits[-_SHOWN_TAIL:]
    return f"{shown[:3]}-{shown[3:6]}-{shown[6:9]} {shown[9:]}"


def mask_name(full_name: str) -> str:
    """The initials of a name ("Иванов Пётр" gives "И. П."): the first letter of each part, so a
    log line can still be matched to a call by someone who knows the name. A hyphenated part
    keeps both initials. Never raises."""
    parts = []
    for word in _HYPHENS.sub("-", full_name).split():
        pieces = [piece for piece in word.split("-") if piece]
        if pieces:
            parts.append("-".join(f"{piece[0].upper()}." for piece in pieces))
    return " ".join(parts)


def name_key(full_name: str) -> str:
    """The form two spellings of one name share, for comparing a name heard on a call with the
    register's: Unicode-normalised, case-folded, ё read as a plain e (Пётр = Петр), one space
    between parts and none around hyphens: `"  ИВАНОВ  Пётр "` and `"иванов петр"` share one."""
    text = unicodedata.normalize("NFKC", full_name).casefold().replace("ё", "е")  # noqa: RUF001
    return " ".join(_HYPHENS.sub("-", text).split())
