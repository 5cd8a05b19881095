"""Identity check: is the person on this contact who they say they are, by the register?

The caller gives a full name, an INN or a SNILS, and the last four digits of the phone they
registered. The answer is verified or not, with one generic reason whatever did not match, so the
API cannot be used to learn which part of someone's data is right. After
`identity.max_failures` failures within `identity.lock_minutes` from one phone, checks from that
phone are refused until the window passes. Numbers are never logged nor echoed unmasked.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import HotlineError, Invalid, NotFound
from hotline.domain.identity import name_key, validate_inn, validate_snils
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.store import Tx
from hotline.store.citizens import find_citizen, recent_failures, record_check
from hotline.store.queries import get_contact

GENERIC_FAILURE = "the data given do not match the register"


class IdentityLocked(HotlineError):
    code = "locked"


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    contact_id: str
    full_name: str
    phone_last4: str
    inn: str | None = None
    snils: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityAnswer:
    verified: bool
    reason: str | None
    attempts_left: int


async def check_identity(sv: Services, caller: Principal, claim: IdentityClaim) -> IdentityAnswer:
    caller.require(Role.OPERATOR, Role.SUPERVISOR, Role.INTEGRATION)
    if (claim.inn is None) == (claim.snils is None):
        raise Invalid("give either inn or snils", field="inn")
    inn = validate_inn(claim.inn) if claim.inn is not None else None
    snils = validate_snils(claim.snils) if claim.snils is not None else None
    if not (len(claim.phone_last4) == 4 and claim.phone_last4.isdigit()):
        raise Invalid("the last four digits of the phone", field="phone_last4")
    settings = sv.settings.identity
    at = sv.clock.now()
    method = "inn" if inn is not None else "snils"

    async def work(tx: Tx) -> IdentityAnswer:
        contact = await get_contact(tx, claim.contact_id)
        if contact is None:
            raise NotFound(f"no contact {claim.contact_id}", field="contact_id")
        phone = contact.phone
        failures = 0
        if phone is not None:
            failures = await recent_failures(tx, phone, since=at - settings.lock_minutes * 60)
            if failures >= settings.max_failures:
                raise IdentityLocked(
                    f"too many failed checks; try again after {settings.lock_minutes} minutes",
                    field="contact_id",
                )
        citizen = await find_citizen(tx, inn=inn, snils=snils)
        verified = (
            citizen is not None
            and citizen.name_key == name_key(claim.full_name)
            and citizen.phone.endswith(claim.phone_last4)
        )
        await record_check(
            tx,
            contact_id=claim.contact_id,
            phone=phone,
            at=at,
            method=method,
            verified=verified,
            citizen_id=citizen.id if verified and citizen is not None else None,
        )
        left = settings.max_failures - failures - (not verified)
        return IdentityAnswer(verified, None if verified else GENERIC_FAILURE, max(left, 0))

    return await sv.store.transact(work)
