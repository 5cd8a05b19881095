"""The pure routing state machine: operators, waiting contacts, offers and assignments.

Owned by exactly one `RouterActor`; nothing else mutates it. Every operation takes `now` (seconds
since the epoch) and returns the events it decided, in order, for the shell to persist and act
on. It reads no clock, does no I/O and never imports trio.

Each step has at most one source of new matches (one operator freed, or one contact that needs a
place), and that source is matched at once against the best counterpart. With the rule that
nothing idles after every step, this gives SPEC's rules 4 and 5 without a global search;
`check_invariants()` and the audit mode verify all six rules by brute force.
"""

from __future__ import annotations

from collections import Counter
from heapq import heappop, heappush

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.routing import invariants
from hotline.routing.figures import queue_figures, queue_position
from hotline.routing.matchers import IndexedMatcher, Matcher, ScanMatcher
from hotline.routing.model import (
    TERMINAL_STATES,
    Accepted,
    Breached,
    Channel,
    ContactState,
    Enqueued,
    Event,
    NewContact,
    OfferWithdrawn,
    OperatorChanged,
    OperatorSpec,
    OperatorState,
    Overflowed,
    Presence,
    QueuePosition,
    RouterStatistics,
    accepted,
    ended,
    enqueued,
    offered,
    operator_changed,
)
from hotline.routing.policy import PriorityClass, RoutingPolicy
from hotline.routing.records import (
    ASSIGNED,
    BREAK,
    OFFERED,
    OFFLINE,
    READY,
    SHOWN_BUSY,
    WAITING,
    ContactRecord,
    OperatorRecord,
    RouteKey,
)
from hotline.routing.skills import SkillIndex
from hotline.routing.timers import LAPSE, LIMIT, OFFER, TARGET, WRAP_UP, Timers

_REASON = {s: s.value for s in ContactState}  # `ContactState.value` is slow to read on 3.11
_INF = float("inf")  # no timer: also the simulator's operators, who never lapse


class RoutingState:
    """See the module docstring. `audit=True` checks every offer against rules 4 and 5."""

    matcher_class: type[IndexedMatcher] | type[ScanMatcher] = IndexedMatcher

    def __init__(self, policy: RoutingPolicy, *, audit: bool = False) -> None:
        self.policy = policy
        self.audit = audit
        self._ops: dict[str, OperatorRecord] = {}
        # Live contacts only; ended ones are counted. (No index of the waiting ones: the matcher's
        # lanes are that index, and a second dict of 10,000 contacts, written on every arrival
        # and offer, cost more cache misses than anything in a decision but the collector.)
        self._contacts: dict[str, ContactRecord] = {}
        self._matcher: Matcher = self.matcher_class(self._ops, self._contacts)
        self._skills = SkillIndex(self._ops, self._matcher)
        self._seq = 0
        self._timers = Timers()
        # The heaps themselves, pushed onto straight from the hot paths.
        self._offer_timers = self._timers.offers
        self._wrap_timers = self._timers.wrap_ups
        self._target_timers = self._timers.targets
        self._limit_timers = self._timers.limits
        self._lapse_timers = self._timers.lapses
        # Contacts by state: the live ones in three counters (a dict keyed by an enum costs
        # four times an attribute on every transition), the ended ones in a dict.
        self._n_waiting = 0
        self._n_offered = 0
        self._n_assigned = 0
        self._ended: dict[ContactState, int] = dict.fromkeys(TERMINAL_STATES, 0)
        # Caches of what policy and specs say again and again: one routes tuple per topic or
        # skill set (so that routes compare by identity and a contact allocates none), a class
        # per topic, sorted skills per route.
        self._topic_routes: dict[str, tuple[RouteKey]] = {}
        self._routes_of: dict[RouteKey, tuple[RouteKey]] = {}
        self._topic_class: dict[str, PriorityClass] = {}
        self._skill_names: dict[RouteKey, tuple[str, ...]] = {}
        self.created = 0
        self.breaches = 0
        self.overflows = 0
        self.offers = 0
        self.missed_offers = 0

    # -- operators --------------------------------------------------------------------------

    def upsert_operator(self, spec: OperatorSpec, now: float) -> list[Event]:
        """Add an operator (offline) or change its profile; work in hand is kept."""
        _validate_operator(spec)
        out: list[Event] = []
        op = self._ops.get(spec.id)
        if op is None:
            op = OperatorRecord(
                spec.id,
                dict(spec.skills),
                spec.languages,
                dict(spec.capacity),
                spec.certified_until,
                now,
            )
            self._ops[op.id] = op
            self._watch_certification(op)
            self._skills.set_skills(op, dict(spec.skills))
            out.append(OperatorChanged(op.id, now, op.state(), "added"))
            return out
        for channel, load in op.load.items():
            if load > spec.capacity.get(channel, 0):
                raise Conflict(f"operator holds {load} {channel} contacts", field="capacity")
        self._matcher.unpark_operator(op)
        op.languages = spec.languages
        self._recertify(op, spec.certified_until)
        op.capacity = dict(spec.capacity)
        op.load = {ch: op.load.get(ch, 0) for ch in op.capacity}
        self._skills.set_skills(op, dict(spec.skills))
        offered = self._contacts[op.offer] if op.offer is not None else None
        if offered is not None and not _still_fits(op, offered, now):
            self._withdraw(offered, op, now, "operator_changed", out)
            self._route_contact(offered, now, out)
        self._lapse_if_uncertified(op, now, out)
        self._route_operator(op, now, out)
        self._show(op, now, "profile", out)
        return out

    def remove_operator(self, op_id: str, now: float) -> list[Event]:
        op = self._operator(op_id)
        if op.holds_more_than_its_offer():
            raise Conflict("operator still holds contacts")
        out: list[Event] = []
        self._matcher.unpark_operator(op)
        op.presence = OFFLINE  # so that its withdrawn offer cannot come back to it
        offered = self._contacts[op.offer] if op.offer is not None else None
        if offered is not None:
            self._withdraw(offered, op, now, "operator_unavailable", out)
        self._skills.set_skills(op, {})
        del self._ops[op_id]
        out.append(OperatorChanged(op_id, now, OperatorState.OFFLINE, "removed"))
        if offered is not None:
            self._route_contact(offered, now, out)
        return out

    def set_presence(self, op_id: str, presence: Presence, now: float) -> list[Event]:
        """Go ready, on break or offline. Ready also ends wrap-up; an open offer is withdrawn."""
        op = self._operator(op_id)
        out: list[Event] = []
        if op.presence is presence and not op.wrapping:
            # Also an operator restored offline with a contact in hand, told to be offline.
            return out
        if presence is OFFLINE and op.holds_more_than_its_offer():
            raise Conflict("operator still holds contacts; complete them first", field="state")
        if presence is READY and not op.certified(now):
            raise Conflict("operator is not certified: no contact may be offered", field="state")
        self._matcher.unpark_operator(op)
        if op.presence is not READY or op.wrapping:
            op.idle_since = now
        op.presence = presence
        op.wrapping = False
        if presence is not READY and op.offer is not None:
            offered = self._contacts[op.offer]
            self._withdraw(offered, op, now, "operator_unavailable", out)
            self._route_contact(offered, now, out)
        self._show(op, now, "requested", out)
        self._route_operator(op, now, out)
        return out

    def end_wrap_up(self, op_id: str, now: float) -> list[Event]:
        """Idempotent: ending a wrap-up that already ended changes nothing."""
        op = self._ops.get(op_id) or self._operator(op_id)
        out: list[Event] = []
        if op.wrapping:
            self._end_wrap_up(op, now, "wrap_up_ended", out)
        return out

    # -- contacts ---------------------------------------------------------------------------

    def enqueue(self, spec: NewContact, now: float) -> list[Event]:
        out: list[Event] = []
        self._admit(self._new_record(spec, now), now, out)
        return out

    def accept(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        op = self._ops.get(op_id)
        if c is None or op is None or c.state is not OFFERED or op.offer != contact_id:
            c, op = self._offer_of(contact_id, op_id)  # raises the precise error
        out: list[Event] = []
        self._n_offered -= 1  # `_set_state(c, ASSIGNED)`, spelt out
        self._n_assigned += 1
        c.state = ASSIGNED
        op.offer = None
        op.idle_since = now
        out.append(accepted(contact_id, op_id, now, now - c.arrived_at))
        # Shown busy since the offer, and still: nothing to publish about the operator.
        self._route_operator(op, now, out)
        return out

    def reject(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        """The operator declines: the contact goes back to its place, the operator on break."""
        c, op = self._offer_of(contact_id, op_id)
        return self._refuse(c, op, now, "rejected")

    def offer_timeout(self, contact_id: str, now: float) -> list[Event]:
        """A missed offer: like a rejection, and counted as missed."""
        c = self._contact(contact_id)
        if c.state is not OFFERED or c.operator is None:
            raise Conflict(f"contact {contact_id} has no open offer")
        self.missed_offers += 1
        return self._refuse(c, self._ops[c.operator], now, "missed")

    def abandon(self, contact_id: str, now: float) -> list[Event]:
        """The citizen left while waiting or while being offered."""
        return self._drop(contact_id, ContactState.ABANDONED, now)

    def expire(self, contact_id: str, now: float) -> list[Event]:
        """The contact is given up by the service (e.g. callback attempts exhausted)."""
        return self._drop(contact_id, ContactState.EXPIRED, now)

    def complete(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        op = self._ops.get(op_id)
        if c is None or op is None or c.state is not ASSIGNED or c.operator != op_id:
            c, op = self._assignment_of(contact_id, op_id)  # raises the precise error
        out: list[Event] = []
        self._release(c, op, now, ContactState.COMPLETED, None, out)
        return out

    def restore_contact(
        self,
        spec: NewContact,
        now: float,
        *,
        overflowed: bool = False,
        breached: bool = False,
        assigned_to: str | None = None,
    ) -> list[Event]:
        """Take back a contact the store remembers, after a restart, without recording again
        what is recorded: no `Enqueued`, no second `Overflowed` or `Breached`. Arrival, class
        and deadlines come from `spec`; restore calls keep their order among equal keys.
        `assigned_to`: it stays with the operator who was handling it (restored before it,
        offline or not), counted against that operator's capacity. Otherwise it waits and is
        routed like any contact."""
        c = self._new_record(spec, now)
        op = self._operator(assigned_to) if assigned_to is not None else None
        if op is not None and not op.has_room(c.channel):
            raise Conflict(f"operator {op.id} has no room for contact {c.id}", field="assigned_to")
        out: list[Event] = []
        self._seq = c.seq
        self._skills.register_route(c.skills)
        self._contacts[c.id] = c
        self._n_waiting += 1
        self.created += 1
        c.breached = breached
        if overflowed:
            c.overflowed = True
            self._widen(c)
        if op is not None:
            self._set_state(c, ASSIGNED)
            c.operator = op.id
            self._matcher.unpark_operator(op)
            op.load[c.channel] += 1
            self._show(op, now, "restored", out)
            self._route_operator(op, now, out)
            return out
        if overflowed:  # past its target already: only the limit can still fall due
            if not breached:
                heappush(self._limit_timers, (c.deadline_at, c.rank, c.arrived_at, c.seq, c.id))
        else:
            heappush(
                self._target_timers,
                (c.target_at, c.rank, c.deadline_at, c.arrived_at, c.seq, c.id),
            )
        self._route_contact(c, now, out)
        return out

    def transfer(self, contact_id: str, new: NewContact, now: float) -> list[Event]:
        """End a waiting or assigned contact as transferred and queue `new` in its stead."""
        c = self._contact(contact_id)
        if c.state is OFFERED:
            raise Conflict("an offered contact is accepted or rejected before it is transferred")
        successor = self._new_record(new, now)  # refuses a bad `new` before anything changes
        out: list[Event] = []
        if c.state is WAITING:
            self._end(c, ContactState.TRANSFERRED, now, out, transferred_to=new.id)
        elif c.state is ASSIGNED:
            assert c.operator is not None
            self._release(c, self._ops[c.operator], now, ContactState.TRANSFERRED, new.id, out)
        self._admit(successor, now, out)
        return out

    # -- a chat switched to a call (issue 14) -------------------------------------------------

    def switch_to_voice(self, contact_id: str, op_id: str, new_id: str, now: float) -> list[Event]:
        """The operator handling chat `contact_id` moves the conversation to a call: the chat
        ends as transferred to `new_id`, a voice contact with the chat's topic, language,
        skills, class, arrival and deadlines. The call stays with the same operator when it
        has room for a call and still fits the contact (certified, the language, a route);
        otherwise the chat is released like any finished contact and the call is routed like
        any contact, where its kept deadlines put it ahead of every contact of its class that
        came after the chat (rule 4), and its target and limit, already past, take effect at
        once (it overflows, and a breach is recorded if its limit has passed)."""
        c, op = self._assignment_of(contact_id, op_id)
        if c.channel is not Channel.CHAT:
            raise Conflict(f"contact {contact_id} is a {c.channel} contact, not a chat")
        spec = NewContact(
            new_id,
            Channel.VOICE,
            c.topic,
            c.language,
            c.skills,
            c.priority,
            c.arrived_at,
            c.target_at,
            c.deadline_at,
        )
        call = self._new_record(spec, now)  # refuses a taken id before anything changes
        out: list[Event] = []
        stays = (
            op.has_room(Channel.VOICE)
            and op.certified(now)
            and c.language in op.languages
            and any(route <= op.skills.keys() for route in c.routes)
        )
        if not stays:
            self._release(c, op, now, ContactState.TRANSFERRED, new_id, out)
            self._admit(call, now, out)
            # Its target and limit, past already, take effect now. (The actor ticks before
            # every command, so the call's are the only timers due.)
            out.extend(self.tick(now))
            return out
        if op.parked:  # its room on chats changes
            self._matcher.unpark_operator(op)
        op.load[c.channel] -= 1
        self._end(c, ContactState.TRANSFERRED, now, out, op.id, new_id)
        self._hand_over(call, op, now, out)
        self._show(op, now, "switched", out)
        self._route_operator(op, now, out)  # room for another chat now
        return out

    def _hand_over(
        self, c: ContactRecord, op: OperatorRecord, now: float, out: list[Event]
    ) -> None:
        """Admit `c` straight into `op`'s hands, as accepted now: no offer, no queue, and no
        timers (a contact taken has no target or limit left to watch)."""
        self._seq = c.seq
        if c.skills not in self._skill_names:
            self._skills.register_route(c.skills)
            self._skill_names[c.skills] = tuple(sorted(c.skills))
        self._contacts[c.id] = c
        self._n_assigned += 1
        self.created += 1
        c.state = ASSIGNED
        c.operator = op.id
        c.offered_at = now
        op.load[c.channel] = op.load.get(c.channel, 0) + 1
        out.append(
            Enqueued(
                c.id,
                now,
                c.channel,
                c.topic,
                c.language,
                c.priority,
                c.arrived_at,
                c.target_at,
                c.deadline_at,
                self._skill_names[c.skills],
            )
        )
        out.append(Accepted(c.id, op.id, now, now - c.arrived_at))

    # -- time -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest moment at which `tick` may have something to do."""
        # The five heaps read in place: asked before every step of a simulation.
        at = _INF
        o, w, t, li = self._offer_timers, self._wrap_timers, self._target_timers, self._limit_timers
        if o and o[0][0] < at:
            at = o[0][0]
        if w and w[0][0] < at:
            at = w[0][0]
        if t and t[0][0] < at:
            at = t[0][0]
        if li and li[0][0] < at:
            at = li[0][0]
        la = self._lapse_timers
        if la and la[0][0] < at:
            at = la[0][0]
        return None if at == _INF else at

    def tick(self, now: float) -> list[Event]:
        """Apply every timer due by `now`, one at a time and in time order (on equal times:
        offers, wrap-ups, targets, limits, lapses)."""
        out: list[Event] = []
        o, w, t, li = self._offer_timers, self._wrap_timers, self._target_timers, self._limit_timers
        la = self._lapse_timers
        while True:
            # The earliest of the five heaps, ties in timers.py's order: most timers fall due
            # stale, and cost only this.
            at, kind = _INF, -1
            if o and o[0][0] < at:
                at, kind = o[0][0], OFFER
            if w and w[0][0] < at:
                at, kind = w[0][0], WRAP_UP
            if t and t[0][0] < at:
                at, kind = t[0][0], TARGET
            if li and li[0][0] < at:
                at, kind = li[0][0], LIMIT
            if la and la[0][0] < at:
                at, kind = la[0][0], LAPSE
            if at > now:
                break
            if kind == OFFER:
                _, offer_seq, cid = heappop(self._offer_timers)
                c = self._contacts.get(cid)
                if c is not None and c.state is OFFERED and c.seq_offer == offer_seq:
                    out.extend(self.offer_timeout(cid, now))
            elif kind == WRAP_UP:
                until, op_id = heappop(self._wrap_timers)
                op = self._ops.get(op_id)
                if op is not None and op.wrapping and op.wrap_until == until:
                    self._end_wrap_up(op, now, "wrap_up_timeout", out)
            elif kind == TARGET:
                *_, cid = heappop(self._target_timers)
                c = self._contacts.get(cid)
                if c is None or c.state is ASSIGNED:
                    continue  # taken in time: no overflow, and no breach can follow
                # The limit's timer is set only now: most contacts never need it.
                heappush(self._limit_timers, (c.deadline_at, c.rank, c.arrived_at, c.seq, c.id))
                if c.state is WAITING and not c.overflowed:
                    self._matcher.unpark_contact(c)
                    self._overflow(c, now, out)
                    self._route_contact(c, now, out)
            elif kind == LAPSE:
                self._lapse_due(now, out)
            else:
                assert kind == LIMIT
                *_, cid = heappop(self._limit_timers)
                c = self._contacts.get(cid)
                if c is not None and not c.breached and c.state is not ASSIGNED:
                    c.breached = True
                    self.breaches += 1
                    out.append(Breached(c.id, now, c.priority, c.deadline_at))
        return out

    # -- certification ----------------------------------------------------------------------

    def certify(self, op_id: str, certified_until: float | None, now: float) -> list[Event]:
        """Set how long an operator stays certified (its journal changed). Renewed: it may be
        offered work again once it is ready. Cut short to `now` or before: it lapses at once."""
        op = self._operator(op_id)
        out: list[Event] = []
        self._recertify(op, certified_until)
        self._lapse_if_uncertified(op, now, out)
        if op.routable:
            self._route_operator(op, now, out)
        return out

    def _recertify(self, op: OperatorRecord, until: float | None) -> None:
        """A new end of `op`'s certification; its timer is set only when the end moved (a
        profile saved unchanged adds no timer)."""
        if until != op.certified_until:
            op.certified_until = until
            self._watch_certification(op)

    def _watch_certification(self, op: OperatorRecord) -> None:
        """Set the lapse timer of `op`'s certification (none for never, or for ever)."""
        until = op.certified_until
        if until is not None and until != _INF:
            heappush(self._lapse_timers, (until, op.id))

    def _lapse_due(self, now: float, out: list[Event]) -> None:
        until, op_id = heappop(self._lapse_timers)
        op = self._ops.get(op_id)
        if op is not None and op.certified_until == until:  # else renewed or changed since
            self._lapse_if_uncertified(op, now, out)

    def _lapse_if_uncertified(self, op: OperatorRecord, now: float, out: list[Event]) -> None:
        """Rule 2 from the instant certification ends: an open offer goes back to its place,
        a ready operator goes on break (shown at once, so the wallboard and the figures see
        it); contacts it has accepted stay with it to the end."""
        if op.certified(now):
            return
        if op.parked:
            self._matcher.unpark_operator(op)
        if op.presence is READY:
            op.presence = BREAK
            op.wrapping = False
        if op.offer is not None:
            offered = self._contacts[op.offer]
            self._withdraw(offered, op, now, "certification_lapsed", out)
            self._route_contact(offered, now, out)
        self._show(op, now, "certification_lapsed", out)

    # -- reading ----------------------------------------------------------------------------

    def check_invariants(self, now: float) -> None:
        """Verify SPEC's routing rules 1, 2, 3 and 6 by brute force; raise if one fails."""
        invariants.check(self, now)

    def statistics(self, now: float, *, queues: bool = False) -> RouterStatistics:
        """Counts (cheap); with `queues=True` also per-queue figures (a scan, for dashboards)."""
        ops = Counter(op.state() for op in self._ops.values())
        figures = queue_figures(self._contacts.values(), self._skills, now) if queues else ()
        return RouterStatistics(
            self.created,
            self.counts_by_state(),
            dict(ops),
            self.breaches,
            self.overflows,
            self.offers,
            self.missed_offers,
            figures,
        )

    def queue_position(self, contact_id: str, now: float) -> QueuePosition:
        """Where a live contact stands; costs the size of its own queues, not of all."""
        return queue_position(self._contact(contact_id), self._matcher, self._skills, now)

    def operator_state(self, op_id: str) -> OperatorState:
        return self._operator(op_id).state()

    def has_operator(self, op_id: str) -> bool:
        return op_id in self._ops

    def contact_state(self, contact_id: str) -> ContactState:
        return self._contact(contact_id).state

    def holder_of(self, contact_id: str) -> str | None:
        return self._contact(contact_id).operator

    # -- admitting a contact ----------------------------------------------------------------

    def _new_record(self, spec: NewContact, now: float) -> ContactRecord:
        """Validate `spec` and build its record; changes nothing in the state."""
        if spec.id in self._contacts:
            raise Conflict(f"contact {spec.id} already exists", field="id")
        topic = spec.topic
        skills = spec.skills
        if skills is None:
            routes = self._topic_routes.get(topic)
            if routes is None:
                routes = self._topic_routes[topic] = (frozenset((topic,)),)
        elif not skills:
            raise Invalid("a contact needs at least one skill", field="skills")
        else:
            routes = self._routes_of.get(skills)
            if routes is None:
                routes = self._routes_of[skills] = (skills,)
        if spec.priority is None:
            pc = self._topic_class.get(topic)
            if pc is None:
                pc = self._topic_class[topic] = self.policy.class_of(topic)
        else:
            pc = self.policy.class_of(topic, spec.priority)
        arrived = now if spec.arrived_at is None else spec.arrived_at
        deadline = arrived + pc.limit_s if spec.deadline_at is None else spec.deadline_at
        target = arrived + pc.target_s if spec.target_at is None else spec.target_at
        return ContactRecord(
            spec.id,
            spec.channel,
            topic,
            spec.language or self.policy.default_language,
            routes,
            pc.name,
            pc.rank,
            arrived,
            target if target < deadline else deadline,
            deadline,
            self._seq + 1,
        )

    def _admit(self, c: ContactRecord, now: float, out: list[Event]) -> None:
        cid, skills, seq = c.id, c.skills, c.seq
        self._seq = seq
        names = self._skill_names.get(skills)
        if names is None:
            self._skills.register_route(skills)
            names = self._skill_names[skills] = tuple(sorted(skills))
        self._contacts[cid] = c
        self._n_waiting += 1
        self.created += 1
        rank, deadline, arrived, target = c.rank, c.deadline_at, c.arrived_at, c.target_at
        heappush(self._target_timers, (target, rank, deadline, arrived, seq, cid))
        channel, topic, language, priority = c.channel, c.topic, c.language, c.priority
        out.append(
            enqueued(cid, now, channel, topic, language, priority, arrived, target, deadline, names)
        )
        # Straight to the matcher: a new contact is in no queue yet, so there is nothing to
        # unpark (what `_route_contact` would do first).
        op = self._matcher.place_contact(c, now)
        if op is not None:
            self._offer(c, op, now, out)

    # -- the two matching moves -------------------------------------------------------------

    def _route_contact(self, c: ContactRecord, now: float, out: list[Event]) -> None:
        """`c` needs a place: the best free operator takes it, else it waits in its queues."""
        self._matcher.unpark_contact(c)
        op = self._matcher.place_contact(c, now)
        if op is not None:
            self._offer(c, op, now, out)

    def _route_operator(self, op: OperatorRecord, now: float, out: list[Event]) -> None:
        """`op` may take work: the best waiting contact it fits goes to it, else it waits."""
        matcher = self._matcher
        if op.parked:
            matcher.unpark_operator(op)
        if op.presence is not READY or op.wrapping or op.offer is not None:  # not routable
            return
        c = matcher.best_contact_for(op, now)
        if c is None:
            matcher.park_operator(op)
        else:
            self._offer(c, op, now, out)

    def _offer(self, c: ContactRecord, op: OperatorRecord, now: float, out: list[Event]) -> None:
        if self.audit:
            invariants.audit_offer(self, c, op, now)
        matcher = self._matcher
        if c.parked:
            matcher.unpark_contact(c)
        if op.parked:
            matcher.unpark_operator(op)
        cid, op_id = c.id, op.id
        # `_set_state(c, OFFERED)`, spelt out: only a waiting contact is ever offered.
        self._n_waiting -= 1
        self._n_offered += 1
        c.state = OFFERED
        c.operator = op_id
        c.offered_at = now
        self.offers = n = self.offers + 1
        c.seq_offer = n
        op.offer = cid
        op.load[c.channel] += 1
        expires = now + self.policy.offer_timeout_s
        heappush(self._offer_timers, (expires, n, cid))
        out.append(offered(cid, op_id, now, expires))
        # It was routable (ready, no wrap-up, no offer) and now holds a contact: it is busy.
        if op.shown is not SHOWN_BUSY:
            op.shown = SHOWN_BUSY
            out.append(operator_changed(op_id, now, SHOWN_BUSY, "offered"))

    # -- transitions shared by several operations -------------------------------------------

    def _refuse(self, c: ContactRecord, op: OperatorRecord, now: float, why: str) -> list[Event]:
        out: list[Event] = []
        self._withdraw(c, op, now, why, out)
        self._matcher.unpark_operator(op)
        op.presence = BREAK
        self._show(op, now, f"{why}_offer", out)
        self._route_contact(c, now, out)
        return out

    def _withdraw(
        self,
        c: ContactRecord,
        op: OperatorRecord,
        now: float,
        why: str,
        out: list[Event],
        *,
        ending: bool = False,
    ) -> None:
        """Take back an open offer: the contact is waiting again in its original place, and
        overflows if it is past its target, unless it is `ending` (abandoned, expired)."""
        op.offer = None
        op.load[c.channel] -= 1
        c.operator = None
        self._n_offered -= 1  # `_set_state(c, WAITING)`: only an offered contact is withdrawn
        self._n_waiting += 1
        c.state = WAITING
        out.append(OfferWithdrawn(c.id, op.id, now, why))
        if not ending and not c.overflowed and now >= c.target_at:
            self._overflow(c, now, out)

    def _drop(self, contact_id: str, state: ContactState, now: float) -> list[Event]:
        c = self._contact(contact_id)
        out: list[Event] = []
        if c.state is ASSIGNED:
            raise Conflict(f"contact {contact_id} is being handled; complete it instead")
        op = self._ops[c.operator] if c.operator is not None else None
        if op is not None:
            self._withdraw(c, op, now, _REASON[state], out, ending=True)
        self._end(c, state, now, out, op.id if op else None)
        if op is not None:
            self._route_operator(op, now, out)
            self._show(op, now, "offer_withdrawn", out)
        return out

    def _release(
        self,
        c: ContactRecord,
        op: OperatorRecord,
        now: float,
        state: ContactState,
        transferred_to: str | None,
        out: list[Event],
    ) -> None:
        """The operator is done with an assigned contact: end it and start wrap-up."""
        if op.parked:  # free on another channel: its room changes
            self._matcher.unpark_operator(op)
        op.load[c.channel] -= 1
        self._end(c, state, now, out, op.id, transferred_to)
        if op.presence is READY and self.policy.wrap_up_s > 0:
            op.wrapping = True
            op.wrap_until = now + self.policy.wrap_up_s
            heappush(self._wrap_timers, (op.wrap_until, op.id))
            self._show(op, now, _REASON[state], out)
            return  # in wrap-up: nothing to offer it yet
        self._show(op, now, _REASON[state], out)
        self._route_operator(op, now, out)

    def _end(
        self,
        c: ContactRecord,
        state: ContactState,
        now: float,
        out: list[Event],
        op_id: str | None = None,
        transferred_to: str | None = None,
    ) -> None:
        if c.parked:
            self._matcher.unpark_contact(c)
        was = c.state  # `_set_state(c, state)`, spelt out: a live contact ends
        if was is ASSIGNED:
            self._n_assigned -= 1
        elif was is WAITING:
            self._n_waiting -= 1
        else:
            self._n_offered -= 1
        self._ended[state] += 1
        c.state = state
        del self._contacts[c.id]
        out.append(ended(c.id, now, state, op_id, transferred_to))

    def _end_wrap_up(self, op: OperatorRecord, now: float, why: str, out: list[Event]) -> None:
        if op.parked:
            self._matcher.unpark_operator(op)
        op.wrapping = False
        op.idle_since = now
        self._show(op, now, why, out)
        self._route_operator(op, now, out)

    def _overflow(self, c: ContactRecord, now: float, out: list[Event]) -> None:
        """Past its target with nobody free: let the fallback pool take it too."""
        c.overflowed = True
        added = self._widen(c)
        if added:
            self.overflows += 1
            out.append(Overflowed(c.id, now, tuple(added)))

    def _widen(self, c: ContactRecord) -> list[str]:
        """Add `c`'s fallback routes; the fallback skills that were new."""
        added = []
        # A fallback skill stands in for the topic only: other needs (say `callback`) remain.
        rest = c.skills - {c.topic}
        for skill in self.policy.fallback_skills(c.topic):
            route = rest | {skill}
            if route not in c.routes:
                self._skills.register_route(route)
                c.routes = (*c.routes, route)
                added.append(skill)
        self._matcher.routes_changed(c)
        return added

    def _set_state(self, c: ContactRecord, state: ContactState) -> None:
        self._tally(c.state, -1)
        self._tally(state, 1)
        c.state = state

    def _tally(self, state: ContactState, n: int) -> None:
        if state is WAITING:
            self._n_waiting += n
        elif state is OFFERED:
            self._n_offered += n
        elif state is ASSIGNED:
            self._n_assigned += n
        else:
            self._ended[state] += n

    def counts_by_state(self) -> dict[ContactState, int]:
        """How many contacts are in each state, every state named (zeros too)."""
        counts = dict.fromkeys(ContactState, 0)
        counts.update(self._ended)
        counts[WAITING] = self._n_waiting
        counts[OFFERED] = self._n_offered
        counts[ASSIGNED] = self._n_assigned
        return counts

    def _show(self, op: OperatorRecord, now: float, why: str, out: list[Event]) -> None:
        """Publish the operator's shown state when it changed."""
        shown = op.state()
        if shown is not op.shown:
            op.shown = shown
            out.append(operator_changed(op.id, now, shown, why))

    # -- lookups ----------------------------------------------------------------------------

    def _operator(self, op_id: str) -> OperatorRecord:
        try:
            return self._ops[op_id]
        except KeyError:
            raise NotFound(f"operator {op_id} not found", field="operator_id") from None

    def _contact(self, contact_id: str) -> ContactRecord:
        try:
            return self._contacts[contact_id]
        except KeyError:
            raise NotFound(f"no live contact {contact_id}", field="contact_id") from None

    def _offer_of(self, contact_id: str, op_id: str) -> tuple[ContactRecord, OperatorRecord]:
        c = self._contact(contact_id)
        op = self._operator(op_id)
        if c.state is not OFFERED or op.offer != c.id:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        return c, op

    def _assignment_of(self, contact_id: str, op_id: str) -> tuple[ContactRecord, OperatorRecord]:
        c = self._contact(contact_id)
        op = self._operator(op_id)
        if c.state is not ASSIGNED or c.operator != op.id:
            raise Conflict(f"contact {contact_id} is not assigned to operator {op_id}")
        return c, op


class ScanRoutingState(RoutingState):
    """The same state machine matching by full scans: the oracle and the naive baseline."""

    matcher_class = ScanMatcher


def _validate_operator(spec: OperatorSpec) -> None:
    for skill, level in spec.skills.items():
        if not 1 <= level <= 5:
            raise Invalid(f"proficiency of {skill!r} must be 1..5", field="skills")
    if not spec.languages:
        raise Invalid("an operator speaks at least one language", field="languages")
    for channel, cap in spec.capacity.items():
        if cap < 0:
            raise Invalid(f"capacity for {channel} must be >= 0", field="capacity")


def _still_fits(op: OperatorRecord, c: ContactRecord, now: float) -> bool:
    return (
        c.language in op.languages
        and op.certified(now)
        and op.load.get(c.channel, 0) <= op.capacity.get(c.channel, 0)
        and any(route <= op.skills.keys() for route in c.routes)
    )


__all__ = ["RoutingState", "ScanRoutingState"]
