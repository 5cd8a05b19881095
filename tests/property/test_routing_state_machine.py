"""Stateful property test of the routing core against a scanning reference model.

Two routers receive every operation: the real `RoutingState` (indexed heaps, lazy deletion) and
`ScanRoutingState`, the same transitions with a matcher that looks at everything. Both run in
audit mode, so every single offer is checked by brute force against rules 2, 4 and 5 before it
is made; after every step both must have decided exactly the same events and pass
`check_invariants()` (rules 1, 2, 3, 6). A small model beside them tracks what was created and how
each contact ended, so that no contact is lost or ends twice, nor overflows or breaches twice, and
a refused operation must leave the router exactly as it was. A restart rebuilds both routers from
their live contacts, as start-up does from the store, and the run goes on with the rebuilt ones;
every live contact's queue position is checked against a brute-force count after every step.
Time moves by random steps and also exactly onto timers (the next deadline, a contact's target or
limit), with answers landing on those very instants, where a `>=` written as `>` would show.
Certifications run out mid-shift by the lapse timer (also on the instant an answer lands) and are
renewed or cut short from the journal: from the lapse on the operator is neither ready nor
offered anything, and what it had accepted stays with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hotline.domain.errors import HotlineError
from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
)
from hotline.routing.model import (
    Breached,
    Ended,
    Event,
    OfferWithdrawn,
    Overflowed,
    QueuePosition,
)
from hotline.routing.records import ContactRecord
from hotline.routing.state import RoutingState, ScanRoutingState
from tests.routing_fixtures import T0, policy

TOPICS = ("a", "b", "c")
SKILLS = ("a", "b", "c", "general", "callback")
OPERATORS = tuple(f"op{i}" for i in range(6))
LANGUAGES = ("ru", "en")

skill_levels = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=4)
languages = st.sets(st.sampled_from(LANGUAGES), min_size=1).map(frozenset)
# Offsets from T0. Most operators can work the whole run: offers, and what happens to them at
# each timer's instant, are what the machine is here to explore.
certification = st.sampled_from([None, 60.0, 900.0, 10 * 86400.0, 10 * 86400.0, 10 * 86400.0])
capacities = st.fixed_dictionaries(
    {Channel.VOICE: st.integers(0, 1), Channel.CHAT: st.integers(0, 3)}
)
# Offers last a minute or longer than any target, so that targets and limits often fall while a
# contact is offered: then an answer at that very instant decides whether it overflows.
OFFER_TIMEOUTS = (60.0, 1000.0)
steps = st.sampled_from([0.0, 1.0, 30.0, 59.0, 60.0, 61.0, 250.0, 299.0, 300.0, 301.0, 600.0])
# From now: 0 lapses at once, None is never certified, the rest run out mid-run or not at all.
renewals = st.sampled_from([None, 0.0, 1.0, 60.0, 300.0, 10 * 86400.0])


def fingerprint(state: RoutingState) -> tuple[Any, ...]:
    """Everything observable about a router, to show that a refused call changed nothing."""
    contacts = sorted(
        (c.id, c.state, c.operator, c.overflowed, c.breached, tuple(sorted(map(sorted, c.routes))))
        for c in state._contacts.values()
    )
    ops = sorted(
        (o.id, o.state(), o.offer, sorted(o.load.items()), o.idle_since)
        for o in state._ops.values()
    )
    return (contacts, ops, state.statistics(0.0))


def restarted(old: RoutingState, now: float) -> RoutingState:
    """A fresh router of the same kind holding what `old`'s store would give back at `now`."""
    new = type(old)(old.policy, audit=True)
    for op in sorted(old._ops.values(), key=lambda o: o.id):
        spec = OperatorSpec(
            op.id, dict(op.skills), op.languages, dict(op.capacity), op.certified_until
        )
        new.upsert_operator(spec, now)
    for c in sorted(old._contacts.values(), key=lambda c: c.seq):
        spec = NewContact(
            c.id,
            c.channel,
            c.topic,
            c.language,
            c.skills,
            c.priority,
            c.arrived_at,
            c.target_at,
            c.deadline_at,
        )
        holder = c.operator if c.state is ContactState.ASSIGNED else None
        events = new.restore_contact(
            spec, now, overflowed=c.overflowed, breached=c.breached, assigned_to=holder
        )
        assert events == [], "every operator is offline after a restart: nothing to decide"
    return new


def waiting(state: RoutingState) -> list[ContactRecord]:
    return [c for c in state._contacts.values() if c.state is ContactState.WAITING]


def waiting_order(state: RoutingState) -> list[str]:
    return [c.id for c in sorted(waiting(state), key=lambda c: c.key)]


def brute_force_position(state: RoutingState, cid: str, now: float) -> QueuePosition:
    """Waiting contacts sharing a queue (a route, the language, the channel) that come first;
    operators not offline who could take it (certified, the language, a route, room on the
    channel at all), and those of them ready with room now."""
    c = state._contacts[cid]
    ahead = 0
    if c.state is ContactState.WAITING:
        ahead = sum(
            1
            for other in waiting(state)
            if other.key < c.key
            and (other.language, other.channel) == (c.language, c.channel)
            and any(route in c.routes for route in other.routes)
        )
    eligible = [
        op
        for op in state._ops.values()
        if op.presence is not Presence.OFFLINE
        and op.certified(now)
        and c.language in op.languages
        and op.capacity.get(c.channel, 0) > 0
        and any(route <= op.skills.keys() for route in c.routes)
    ]
    free = sum(1 for op in eligible if op.routable and op.has_room(c.channel))
    return QueuePosition(ahead, len(eligible), free)


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.routers: tuple[RoutingState, RoutingState] = self.new_routers(OFFER_TIMEOUTS[0])
        self.created: set[str] = set()
        self.ended: dict[str, ContactState] = {}
        self.overflowed: set[str] = set()
        self.breached: set[str] = set()
        self.ended_before_restart: set[str] = set()
        self.serial = 0
        # Calls made from chats: the arrival, target and limit of the chat each one continues.
        self.switched: dict[str, tuple[float, float, float]] = {}

    @staticmethod
    def new_routers(offer_timeout: float) -> tuple[RoutingState, RoutingState]:
        return (
            RoutingState(policy(offer_timeout_s=offer_timeout), audit=True),
            ScanRoutingState(policy(offer_timeout_s=offer_timeout), audit=True),
        )

    @initialize(offer_timeout=st.sampled_from(OFFER_TIMEOUTS), staffed=st.integers(0, 2))
    def open_the_line(self, offer_timeout: float, staffed: int) -> None:
        """Choose how long offers last, and start with up to two operators ready who can take
        anything: random operators are rarely eligible, and without offers the timers' instants
        that matter most (an answer as a target or limit fires) are never reached."""
        note(f"offers last {offer_timeout} s; {staffed} operators ready")
        self.routers = self.new_routers(offer_timeout)
        for op_id in OPERATORS[:staffed]:
            spec = OperatorSpec(
                op_id,
                dict.fromkeys(SKILLS, 3),
                frozenset(LANGUAGES),
                {Channel.VOICE: 1, Channel.CHAT: 3},
                T0 + 10 * 86400.0,
            )
            self.both(lambda r, spec=spec: r.upsert_operator(spec, self.now))
            self.both(lambda r, op_id=op_id: r.set_presence(op_id, Presence.READY, self.now))

    # -- driving both routers ---------------------------------------------------------------

    def both(self, op: Callable[[RoutingState], list[Event]]) -> list[Event] | None:
        """Apply `op` to both routers; they must agree on the events or on the refusal."""
        outcomes: list[list[Event] | type[HotlineError]] = []
        for router in self.routers:
            before = fingerprint(router)
            try:
                outcomes.append(op(router))
            except HotlineError as error:
                assert fingerprint(router) == before, "a refused operation changed the router"
                outcomes.append(type(error))
        indexed, scanned = outcomes
        assert indexed == scanned, f"indexed router decided {indexed}, the scan {scanned}"
        if not isinstance(indexed, list):
            note(f"refused: {indexed.__name__}")
            return None
        for event in indexed:
            note(repr(event))
            if isinstance(event, Ended):
                assert event.contact_id not in self.ended, f"{event.contact_id} ended twice"
                self.ended[event.contact_id] = event.state
            elif isinstance(event, Overflowed):
                assert event.contact_id not in self.overflowed, (
                    f"{event.contact_id} overflowed twice"
                )
                self.overflowed.add(event.contact_id)
            elif isinstance(event, Breached):
                assert event.contact_id not in self.breached, f"{event.contact_id} breached twice"
                self.breached.add(event.contact_id)
            elif isinstance(event, OfferWithdrawn) and event.reason == "certification_lapsed":
                op = self.router._ops[event.operator_id]
                assert not op.certified(event.at), "withdrawn for a lapse that did not happen"
        return indexed

    @property
    def router(self) -> RoutingState:
        return self.routers[0]

    def contacts_in(self, *states: ContactState) -> list[str]:
        return sorted(c.id for c in self.router._contacts.values() if c.state in states)

    def new_contact_id(self) -> str:
        self.serial += 1
        return f"c{self.serial}"

    # -- operators --------------------------------------------------------------------------

    @rule(
        op_id=st.sampled_from(OPERATORS),
        skills=skill_levels,
        langs=languages,
        capacity=capacities,
        cert=certification,
    )
    def upsert_operator(
        self,
        op_id: str,
        skills: dict[str, int],
        langs: frozenset[str],
        capacity: dict[Channel, int],
        cert: float | None,
    ) -> None:
        spec = OperatorSpec(op_id, skills, langs, capacity, None if cert is None else T0 + cert)
        self.both(lambda r: r.upsert_operator(spec, self.now))

    @rule(op_id=st.sampled_from(OPERATORS), presence=st.sampled_from(list(Presence)))
    def set_presence(self, op_id: str, presence: Presence) -> None:
        self.both(lambda r: r.set_presence(op_id, presence, self.now))

    @precondition(lambda self: self.router._ops)
    @rule(data=st.data())
    def an_operator_is_ready(self, data: st.DataObject) -> None:
        op_id = data.draw(st.sampled_from(sorted(self.router._ops)))
        self.both(lambda r: r.set_presence(op_id, Presence.READY, self.now))

    @rule(op_id=st.sampled_from(OPERATORS))
    def remove_operator(self, op_id: str) -> None:
        self.both(lambda r: r.remove_operator(op_id, self.now))

    @rule(op_id=st.sampled_from(OPERATORS))
    def end_wrap_up(self, op_id: str) -> None:
        self.both(lambda r: r.end_wrap_up(op_id, self.now))

    # -- certification ----------------------------------------------------------------------

    @precondition(lambda self: self.router._ops)
    @rule(data=st.data(), renewal=renewals)
    def certification_is_renewed_or_cut(self, data: st.DataObject, renewal: float | None) -> None:
        """A journal entry changes how long an operator stays certified, at any moment."""
        op_id = data.draw(st.sampled_from(sorted(self.router._ops)))
        until = None if renewal is None else self.now + renewal
        self.both(lambda r: r.certify(op_id, until, self.now))

    @precondition(lambda self: self.router._ops)
    @rule(
        data=st.data(),
        left=st.sampled_from([1.0, 30.0]),
        then=st.sampled_from(["nothing", "accept", "enqueue"]),
    )
    def certification_lapses_mid_shift(self, data: st.DataObject, left: float, then: str) -> None:
        """An operator at work (ready, offered, holding contacts) has `left` seconds of
        certification; time moves exactly onto the lapse and its timer fires. From that
        instant it is offered nothing and is not ready, and what it had accepted stays with it;
        an answer to its offer landing on that very instant is refused."""
        op_id = data.draw(st.sampled_from(sorted(self.router._ops)))
        if self.both(lambda r: r.certify(op_id, self.now + left, self.now)) is None:
            return
        held = {c.id for c in self.router._contacts.values() if c.operator == op_id}
        accepted = {
            cid for cid in held if self.router._contacts[cid].state is ContactState.ASSIGNED
        }
        self.now += left
        self.both(lambda r: r.tick(self.now))
        for router in self.routers:
            op = router._ops[op_id]
            assert op.offer is None, "an offer stays open past the lapse"
            assert op.presence is not Presence.READY, "ready past the lapse"
            for cid in accepted:  # no timer ends an accepted contact: it must still be held
                c = router._contacts[cid]
                assert (c.state, c.operator) == (ContactState.ASSIGNED, op_id), cid
        offered_before = held - accepted
        if then == "accept" and offered_before:
            cid = min(offered_before)
            assert self.both(lambda r: r.accept(cid, op_id, self.now)) is None
        elif then == "enqueue":
            spec = NewContact(self.new_contact_id(), Channel.VOICE, "a", "ru")
            events = self.both(lambda r: r.enqueue(spec, self.now))
            if events is not None:
                self.created.add(spec.id)
                assert self.router.holder_of(spec.id) != op_id
        self.both(lambda r: r.set_presence(op_id, Presence.READY, self.now))
        assert self.router._ops[op_id].presence is not Presence.READY

    # -- contacts ---------------------------------------------------------------------------

    @rule(
        topic=st.sampled_from(TOPICS),
        channel=st.sampled_from([Channel.VOICE, Channel.CHAT]),
        language=st.sampled_from(LANGUAGES),
        callback=st.booleans(),
    )
    def enqueue(self, topic: str, channel: Channel, language: str, callback: bool) -> None:
        cid = self.new_contact_id()
        skills = frozenset({"callback", topic}) if callback else None
        spec = NewContact(cid, channel, topic, language, skills)
        if self.both(lambda r: r.enqueue(spec, self.now)) is not None:
            self.created.add(cid)

    @rule(
        topic=st.sampled_from(TOPICS),
        limit=st.booleans(),
        then=st.sampled_from(["accept", "reject", "time_out", "abandon"]),
    )
    def a_contact_meets_its_timer(self, topic: str, limit: bool, then: str) -> None:
        """A contact arrives and the next thing that happens is its target (or limit): the
        timers fire, and if it is offered then, its operator answers on that very instant. The
        boundaries where `>=` and `>` differ are reached this way, not by random steps."""
        cid = self.new_contact_id()
        spec = NewContact(cid, Channel.VOICE, topic, "ru")
        if self.both(lambda r: r.enqueue(spec, self.now)) is None:
            return
        self.created.add(cid)
        c = self.router._contacts[cid]
        self.now = c.deadline_at if limit else c.target_at
        self.both(lambda r: r.tick(self.now))
        op_id = self.router.holder_of(cid)
        if c.state is not ContactState.OFFERED or op_id is None:
            return
        if then == "accept":
            self.both(lambda r: r.accept(cid, op_id, self.now))
        elif then == "reject":
            self.both(lambda r: r.reject(cid, op_id, self.now))
        elif then == "time_out":
            self.both(lambda r: r.offer_timeout(cid, self.now))
        else:
            self.both(lambda r: r.abandon(cid, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.OFFERED))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.OFFERED)))
        op_id = self.router.holder_of(cid)
        assert op_id is not None
        if accept:
            self.both(lambda r: r.accept(cid, op_id, self.now))
        else:
            self.both(lambda r: r.reject(cid, op_id, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.OFFERED))
    @rule(data=st.data())
    def offer_times_out(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.OFFERED)))
        self.both(lambda r: r.offer_timeout(cid, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.ASSIGNED))
    @rule(data=st.data(), transfer_to=st.none() | st.sampled_from(TOPICS))
    def finish(self, data: st.DataObject, transfer_to: str | None) -> None:
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.ASSIGNED)))
        op_id = self.router.holder_of(cid)
        assert op_id is not None
        if transfer_to is None:
            self.both(lambda r: r.complete(cid, op_id, self.now))
            assert self.ended.get(cid) is ContactState.COMPLETED
            return
        new = NewContact(self.new_contact_id(), Channel.VOICE, transfer_to)
        if self.both(lambda r: r.transfer(cid, new, self.now)) is not None:
            self.created.add(new.id)
            assert self.ended.get(cid) is ContactState.TRANSFERRED

    @precondition(lambda self: self.created)
    @rule(data=st.data(), give_up=st.booleans())
    def citizen_leaves(self, data: st.DataObject, give_up: bool) -> None:
        """Abandon or expire any contact ever created: live ones end, others are refused."""
        cid = data.draw(st.sampled_from(sorted(self.created)))
        was = self.ended.get(cid)
        if give_up:
            done = self.both(lambda r: r.expire(cid, self.now))
        else:
            done = self.both(lambda r: r.abandon(cid, self.now))
        if done is not None:
            assert was is None
            assert self.ended[cid] is (ContactState.EXPIRED if give_up else ContactState.ABANDONED)

    @rule(cid=st.sampled_from(["nobody", "c1"]), op_id=st.sampled_from(["ghost", "op0"]))
    def misdirected_calls(self, cid: str, op_id: str) -> None:
        """Answers for the wrong operator or unknown ids are refused and change nothing."""
        self.both(lambda r: r.accept(cid, op_id, self.now))
        self.both(lambda r: r.complete(cid, op_id, self.now))

    # -- a chat switched to a call (issue 14) ---------------------------------------------------

    def in_hand(self, channel: Channel) -> list[str]:
        return sorted(
            c.id
            for c in self.router._contacts.values()
            if c.state is ContactState.ASSIGNED and c.channel is channel
        )

    @rule(
        data=st.data(),
        topic=st.sampled_from(TOPICS),
        language=st.sampled_from(LANGUAGES),
        later=st.sampled_from([0.0, 1.0, 301.0, 1000.0]),
    )
    def switch_a_chat_to_a_call(
        self, data: st.DataObject, topic: str, language: str, later: float
    ) -> None:
        """The operator of a chat moves it to a call, `later` seconds after taking it (past its
        target or its limit, too): the chat ends transferred, and the call stays with that
        operator exactly when it has room for a call and fits the contact. A new chat is
        taken for it if one is offered (chats in hand are rare otherwise)."""
        cid = self.new_contact_id()
        spec = NewContact(cid, Channel.CHAT, topic, language)
        if self.both(lambda r: r.enqueue(spec, self.now)) is None:
            return
        self.created.add(cid)
        op_id = self.router.holder_of(cid)
        if self.router.contact_state(cid) is ContactState.OFFERED and op_id is not None:
            self.both(lambda r: r.accept(cid, op_id, self.now))
        chats = self.in_hand(Channel.CHAT)
        if not chats:
            return
        self.now += later
        self.both(lambda r: r.tick(self.now))
        chats = self.in_hand(Channel.CHAT)
        if not chats:
            return
        cid = data.draw(st.sampled_from(chats))
        chat = self.router._contacts[cid]
        assert chat.operator is not None
        op = self.router._ops[chat.operator]
        stays = (
            op.has_room(Channel.VOICE)
            and op.certified(self.now)
            and chat.language in op.languages
            and any(route <= op.skills.keys() for route in chat.routes)
        )
        kept = (chat.arrived_at, chat.target_at, chat.deadline_at)
        new_id = self.new_contact_id()
        assert self.both(lambda r: r.switch_to_voice(cid, op.id, new_id, self.now)) is not None
        self.created.add(new_id)
        self.switched[new_id] = kept
        assert self.ended[cid] is ContactState.TRANSFERRED
        call = self.router._contacts[new_id]
        note(f"{cid} switched to {new_id}: {call.state} with {call.operator}, stays={stays}")
        if stays:
            assert (call.state, call.operator) == (ContactState.ASSIGNED, op.id)
        else:
            assert call.state is not ContactState.ASSIGNED

    @precondition(lambda self: self.in_hand(Channel.VOICE))
    @rule(data=st.data(), other_operator=st.booleans())
    def a_call_or_someone_elses_chat_is_not_switched(
        self, data: st.DataObject, other_operator: bool
    ) -> None:
        cid = data.draw(st.sampled_from(self.in_hand(Channel.VOICE) + self.in_hand(Channel.CHAT)))
        c = self.router._contacts[cid]
        op_id = "ghost" if other_operator else c.operator
        if c.channel is Channel.CHAT and not other_operator:
            return  # that one is switched by the rule above
        assert op_id is not None
        assert self.both(lambda r: r.switch_to_voice(cid, op_id, "never", self.now)) is None

    # -- a restart ----------------------------------------------------------------------------

    @rule()
    def restart(self) -> None:
        """Rebuild each router from what the store keeps, as `hotline.recovery` does: operators
        offline, contacts in their order, offers in flight back in the queue, assignments kept,
        nothing recorded twice; then the actor's first `tick`."""
        rebuilt = tuple(restarted(router, self.now) for router in self.routers)
        for old, new in zip(self.routers, rebuilt, strict=True):
            assert waiting_order(new) == [
                c.id
                for c in sorted(old._contacts.values(), key=lambda c: c.key)
                if c.state is not ContactState.ASSIGNED
            ]
            for c in old._contacts.values():
                again = new._contacts[c.id]
                assert (again.overflowed, again.breached) == (c.overflowed, c.breached)
                assert again.key[:3] == c.key[:3] and again.target_at == c.target_at
                if c.state is ContactState.ASSIGNED:
                    assert again.state is ContactState.ASSIGNED and again.operator == c.operator
                else:
                    assert again.state is ContactState.WAITING
            assert {
                o.id for o in new._ops.values() if o.state() is not OperatorState.OFFLINE
            } == set()
            counts = new.statistics(self.now).by_state
            assert {s for s, n in counts.items() if n} <= {
                ContactState.WAITING,
                ContactState.ASSIGNED,
            }
            new.check_invariants(self.now)
        self.routers = rebuilt
        self.ended_before_restart = set(self.ended)
        self.both(lambda r: r.tick(self.now))

    # -- time -------------------------------------------------------------------------------

    @rule(dt=steps)
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.both(lambda r: r.tick(self.now))

    @rule(data=st.data(), then=st.sampled_from(["nothing", "accept", "reject", "time_out"]))
    def jump_to_next_deadline(self, data: st.DataObject, then: str) -> None:
        """Move time exactly to the next timer and let it fire; then an operator with an open
        offer may answer on that very instant (say, as the contact's target fires while it is
        offered): the boundaries where `>=` and `>` differ, which random steps almost never hit."""
        due = self.router.next_deadline()
        assert due == self.routers[1].next_deadline()
        if due is not None and due > self.now:
            self.now = due
        self.both(lambda r: r.tick(self.now))
        offered = self.contacts_in(ContactState.OFFERED)
        if then == "nothing" or not offered:
            return
        cid = data.draw(st.sampled_from(offered))
        op_id = self.router.holder_of(cid)
        assert op_id is not None
        if then == "accept":
            self.both(lambda r: r.accept(cid, op_id, self.now))
        elif then == "reject":
            self.both(lambda r: r.reject(cid, op_id, self.now))
        else:
            self.both(lambda r: r.offer_timeout(cid, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.WAITING))
    @rule(data=st.data(), before=st.sampled_from([0.0, 1.0, 30.0, 59.0]), limit=st.booleans())
    def time_to_a_contacts_timer(self, data: st.DataObject, before: float, limit: bool) -> None:
        """Move time to a waiting contact's target or limit, or a little before it, so that
        what comes next (an operator ready, an offer) lands just before or on that instant."""
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.WAITING)))
        c = self.router._contacts[cid]
        self.now = max(self.now, (c.deadline_at if limit else c.target_at) - before)
        self.both(lambda r: r.tick(self.now))

    # -- what must hold after every step ----------------------------------------------------

    @invariant()
    def routing_rules_hold(self) -> None:
        for router in self.routers:
            router.check_invariants(self.now)

    @invariant()
    def an_operator_past_its_certification_is_offered_nothing(self) -> None:
        for router in self.routers:
            for op in router._ops.values():
                if not op.certified(self.now):
                    assert op.presence is not Presence.READY, f"{op.id} ready, uncertified"
                    assert op.offer is None, f"{op.id} offered {op.offer}, uncertified"

    @invariant()
    def no_contact_is_lost(self) -> None:
        live = set(self.router._contacts)
        assert live | set(self.ended) == self.created
        assert not live & set(self.ended)
        # A restarted router counts from its restart: what it took back, and what came after.
        counted = {cid: s for cid, s in self.ended.items() if cid not in self.ended_before_restart}
        stats = self.router.statistics(self.now)
        assert stats.created == len(live) + len(counted) == sum(stats.by_state.values())
        for state in (ContactState.COMPLETED, ContactState.ABANDONED, ContactState.EXPIRED):
            assert stats.by_state.get(state, 0) == list(counted.values()).count(state)

    @invariant()
    def queue_positions_count_what_comes_first(self) -> None:
        for c in self.router._contacts.values():
            expected = brute_force_position(self.router, c.id, self.now)
            for router in self.routers:
                assert router.queue_position(c.id, self.now) == expected, c.id
            if c.state is ContactState.WAITING:
                assert expected.free_operators == 0, "rule 3: a free operator would take it"

    @invariant()
    def a_contact_past_its_target_has_overflowed(self) -> None:
        for c in self.router._contacts.values():
            if c.state is ContactState.WAITING:
                assert c.overflowed or c.target_at > self.now, f"{c.id} missed its overflow"

    @invariant()
    def a_switched_call_keeps_its_chats_place(self) -> None:
        """A call made from a chat keeps the chat's arrival and deadlines, so that while it
        waits, no contact of its class that came after the chat is ahead of it."""
        live = self.router._contacts
        queued: list[ContactRecord] | None = None
        for cid, (arrived, target, deadline) in self.switched.items():
            c = live.get(cid)
            if c is None:
                continue
            assert c.channel is Channel.VOICE
            assert (c.arrived_at, c.target_at, c.deadline_at) == (arrived, target, deadline)
            if c.state is ContactState.WAITING:
                queued = waiting(self.router) if queued is None else queued
                for other in queued:
                    if other.rank == c.rank and other.arrived_at > arrived:
                        assert c.key < other.key, f"{other.id} came later and is ahead of {cid}"

    @invariant()
    def nothing_waits_unmonitored(self) -> None:
        """A contact not yet taken has its limit ahead, or its breach is recorded."""
        for c in self.router._contacts.values():
            if c.state is not ContactState.ASSIGNED:
                assert c.breached or c.deadline_at > self.now


RoutingMachine.TestCase.settings = settings(
    max_examples=600,  # 36,000 steps a run: about a minute of CPU (1,000 took 93 s)
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRoutingStateMachine = RoutingMachine.TestCase
