"""Phone numbers: any common spelling in, E.164 out, with python's `phonenumbers`.

Called by the services when a phone enters the system (contacts, tickets, SMS recipients).
Pure; a number that cannot be a real one is `Invalid`, naming the field it came in.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from hotline.domain.errors import Invalid

DEFAULT_REGION = "RU"
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Parsed spellings kept for callers who call again (a retry, a ticket after its contact): the
# recent ones are all that is worth keeping. About 300 bytes each, so at most about 1.2 MB.
PHONE_CACHE_SIZE = 4_096


def normalize_phone(text: str, *, field: str = "phone") -> str:
    """`+79123456789` for "8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", ..."""
    e164 = _e164(text)
    if e164 is None:
        raise Invalid("not a valid phone number", field=field)
    return e164


@functools.lru_cache(maxsize=PHONE_CACHE_SIZE)
def _e164(text: str) -> str | None:
    # Callers call again: parsing a number costs more than the rest of a contact's validation.
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def is_russian_mobile(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return (
        number.country_code == 7
        and phonenumbers.region_code_for_number(number) == "RU"
        and (phonenumbers.number_type(number) in _MOBILE)
    )


def require_sms_phone(text: str, *, field: str = "phone") -> str:
    """The E.164 form of a Russian mobile number; anything else cannot receive our SMS."""
    e164 = normalize_phone(text, field=field)
    if not is_russian_mobile(e164):
        raise Invalid("SMS go only to Russian mobile numbers", field=field)
    return e164
