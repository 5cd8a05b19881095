"""Operators: profiles (set by supervisors), presence (set by the operator or a supervisor),
wrap-up, and what the desk is offered.

A profile change goes to the router first (it refuses one that would cut capacity below the
work in hand; its events are on disk when it returns), then to the store; the answer waits for
both. `certified_until` is a calendar date: certification runs to the end of that day in the
line's time zone. It is derived from the certification journal (`hotline.services.
certifications`); a typed date is taken only as an import of history into that journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from hotline.domain.certification import certified_instant
from hotline.domain.errors import Invalid, NotFound
from hotline.routing.model import Channel, Offered, OperatorSpec, OperatorState, Presence
from hotline.services import Services, certifications
from hotline.services.auth import Principal, Role
from hotline.store import Tx
from hotline.store.certifications import add_entry, journal_of
from hotline.store.events import load_operators, save_operator
from hotline.store.rows import OperatorProfile, StoredOperator

MIN_LEVEL, MAX_LEVEL = 1, 5


@dataclass(frozen=True, slots=True)
class OperatorView:
    profile: OperatorProfile
    state: OperatorState


def operator_spec(profile: OperatorProfile, tz: ZoneInfo) -> OperatorSpec:
    return OperatorSpec(
        id=profile.id,
        skills=dict(profile.skills),
        languages=profile.languages,
        capacity=dict(profile.capacity),
        certified_until=certified_instant(profile.certified_until, tz),
    )


async def put_operator(
    sv: Services, caller: Principal, profile: OperatorProfile
) -> tuple[OperatorView, bool]:
    """Create or change an operator's profile; True if it was created."""
    caller.require(Role.SUPERVISOR)
    _check_profile(sv, profile)
    # Imported or not, the date comes from the journal: one change of it at a time.
    async with certifications.journal_turn(sv, profile.id):
        entries = await sv.store.read(lambda tx: journal_of(tx, profile.id))
        imported, until = certifications.plan_import(sv, entries, profile.certified_until)
        profile = replace(profile, certified_until=until)
        spec = operator_spec(profile, sv.settings.timezone)
        # Whether the router knew it (it holds every stored operator) and how it shows, in the
        # one step that changes it: two PUTs of a new id cannot both find it new.
        put = await sv.router.put_operator(spec)
        at = sv.clock.now()

        async def work(tx: Tx) -> None:
            await save_operator(tx, profile, at=at)
            if imported is not None:
                await add_entry(
                    tx, certifications.imported_entry(profile.id, imported, caller, at), at=at
                )

        await sv.store.transact(work)
    return OperatorView(profile, put.state), not put.existed


async def get_operator(sv: Services, caller: Principal, operator_id: str) -> OperatorView:
    caller.may_see_operator(operator_id)
    stored = await _find(sv, operator_id)
    if stored is None:
        raise NotFound(f"no operator {operator_id}")
    states = await _live_states(sv, [operator_id])
    return OperatorView(stored.profile, states.get(operator_id, stored.state))


async def list_operators(sv: Services, caller: Principal) -> list[OperatorView]:
    caller.require(Role.SUPERVISOR)
    stored = await sv.store.read(load_operators, snapshot=False)
    states = await _live_states(sv, [s.profile.id for s in stored])
    return [OperatorView(s.profile, states.get(s.profile.id, s.state)) for s in stored]


async def set_presence(
    sv: Services, caller: Principal, operator_id: str, presence: Presence
) -> OperatorView:
    op = caller.acting_as(operator_id)
    await sv.router.set_presence(op, presence)
    return await get_operator(sv, caller, op)


async def end_wrap_up(sv: Services, caller: Principal, operator_id: str) -> OperatorView:
    op = caller.acting_as(operator_id)
    await sv.router.end_wrap_up(op)
    return await get_operator(sv, caller, op)


async def pending_offers(sv: Services, caller: Principal, operator_id: str) -> list[Offered]:
    caller.may_see_operator(operator_id)
    if await _find(sv, operator_id) is None:
        raise NotFound(f"no operator {operator_id}")
    return sv.offers.pending(operator_id)


async def _find(sv: Services, operator_id: str) -> StoredOperator | None:
    found = await sv.store.read(
        lambda tx: load_operators(tx, operator_id=operator_id), snapshot=False
    )
    return found[0] if found else None


async def _live_states(sv: Services, ids: list[str]) -> Mapping[str, OperatorState]:
    return await sv.router.operator_states(ids)


def _check_profile(sv: Services, profile: OperatorProfile) -> None:
    for skill, level in profile.skills.items():
        if skill not in sv.settings.topics:
            raise Invalid(f"unknown skill {skill!r}", field=f"skills.{skill}")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise Invalid(f"proficiency is {MIN_LEVEL} to {MAX_LEVEL}", field=f"skills.{skill}")
    for language in profile.languages:
        if language not in sv.settings.languages.accepted:
            raise Invalid(f"language {language!r} is not served", field="languages")
    for channel, n in profile.capacity.items():
        if n < 0:
            raise Invalid("a capacity is 0 or more", field=f"capacity.{channel}")
    if not any(profile.capacity.get(ch, 0) for ch in Channel):
        raise Invalid("an operator takes at least one channel", field="capacity")
