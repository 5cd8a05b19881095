"""The simulator: the production routing core driven on virtual time, measured by the KPI core.

A discrete-event loop over a heap of what the citizens and operators do next (the next
arrival, an offer answered, a contact completed, a citizen giving up, a planned presence
change, an operator back from a missed offer), interleaved with the router's own next deadline
(offer timeouts, wrap-up ends, targets and limits: `RoutingState.next_deadline`/`tick`). It
calls the same `RoutingState` the server runs; nothing here decides who gets what. It reacts to
the router's events as the operators' desks would: an `Offered` is accepted after the
scenario's offer delay (at once without one), an `Accepted` contact is completed after its
handle time, and the router's wrap-up runs on the policy's timer.

Every event the router returns goes through a `KpiTracker` into `Buckets` (a few thousand at a
time, in order), so the figures are the live line's. The warm-up is discarded: only facts at
or after the measured start count; an operator's piece of time that spans the start is cut
there (its part before is dropped), and at the end each operator's current piece is added up
to the end. Contacts whose wait has not ended by the end are not counted (the live line
counts a wait where it ends).

Shifts: at a shift's end an operator with contacts in hand is put on break (no new offers;
an open offer goes back to the queue), finishes them, and then signs off; a break starts on
time in the same way. The KPI core counts that tail as busy (on break with a contact in
hand), as on the live line.

Deterministic: every draw comes from generators seeded by `seed`, in event order; no wall
clock, no global state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from heapq import heappop, heappush
from random import Random
from typing import Any

from hotline.config import Settings
from hotline.domain.errors import Conflict
from hotline.kpi import Buckets, KpiRules, KpiTracker
from hotline.kpi.facts import FactSink
from hotline.routing import NewContact, Presence, RoutingState
from hotline.routing.model import (
    Accepted,
    ContactState,
    Ended,
    Enqueued,
    Event,
    Offered,
    OfferWithdrawn,
    OperatorChanged,
    OperatorState,
)
from hotline.sim.arrivals import Arrival, ContactKind, poisson_arrivals
from hotline.sim.draws import sampler
from hotline.sim.levels import Levels
from hotline.sim.required import hourly_required
from hotline.sim.roster import Roster, build_roster, check_coverage
from hotline.sim.scenario import Scenario, ScenarioError

# What the heap holds: (time, sequence, kind, a, b).
_ARRIVE, _ACCEPT, _COMPLETE, _ABANDON, _PRESENCE, _BACK = range(6)
_READY, _BREAK, _OFFLINE = Presence.READY, Presence.BREAK, Presence.OFFLINE
_ON_BREAK = OperatorState.BREAK
_UNANSWERED_END = (ContactState.ABANDONED, ContactState.EXPIRED)
_PROGRESS_EVERY = 4096
_BATCH = 4096  # router events fed to the KPI core at once


@dataclass(frozen=True, slots=True)
class SimResult:
    """What a run measured. `waiting`, `staffed`: per interval start, contact-seconds waiting
    and operator-seconds scheduled at work (on shift, not on a planned break)."""

    rules: KpiRules
    buckets: Buckets
    start: float
    end: float
    waiting: dict[float, float]
    staffed: dict[float, float]
    contacts: int  # arrivals simulated, warm-up included
    router_events: int
    # Operators Erlang says each hour of the day needs (`hotline.sim.required`), if known, and
    # where the hours fall: local time minus UTC, in seconds.
    required_hourly: list[float] | None = None
    utc_offset_s: float = 0.0


class Simulation:
    """One scenario on one config, ready to `run` once."""

    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        *,
        seed: int = 1,
        replay: Callable[[Random, float, float], list[Arrival]] | None = None,
    ) -> None:
        """`replay`: the contacts of a past day (`hotline.sim.replay`), given the generator
        and the run's span, instead of the scenario's arrivals."""
        policy = settings.routing_policy()
        if scenario.wrap_up_s is not None:
            policy = dataclasses.replace(policy, wrap_up_s=scenario.wrap_up_s)
        rules = settings.kpi_rules()
        if scenario.service_level_basis is not None:
            rules = dataclasses.replace(rules, basis=scenario.service_level_basis)
        if scenario.short_abandon_s is not None:
            rules = dataclasses.replace(rules, short_abandon_s=scenario.short_abandon_s)
        self.rules = rules
        self.scenario = scenario
        midnight = dt.datetime.combine(scenario.start, dt.time(), settings.timezone)
        offset = midnight.utcoffset()
        assert offset is not None
        self.start = midnight.timestamp()
        self.end = self.start + scenario.duration_s
        self.begin = self.start - scenario.warmup_min * 60.0
        rng = Random(seed)
        self._offer_rng = Random(f"offers:{seed}")
        if replay is not None:
            recorded = replay(rng, self.begin, self.end)
            kinds = list(dict.fromkeys(kind for _, kind, _, _ in recorded))
            self._arrivals: Iterator[Arrival] = iter(recorded)
        elif not scenario.arrivals:
            raise ScenarioError([("arrivals", "at least one is needed (or --replay a day)")])
        else:
            kinds = [
                ContactKind.of(a.topic, a.channel, a.language, a.priority)
                for a in scenario.arrivals
            ]
            self._arrivals = poisson_arrivals(
                scenario, rng, offset.total_seconds(), self.begin, self.end
            )
        self.roster: Roster = build_roster(
            scenario,
            default_capacity=settings.default_capacity(),
            default_language=policy.default_language,
            midnight=self.start,
            begin=self.begin,
            end=self.end,
        )
        check_coverage(
            kinds, self.roster.specs, policy.default_language, replayed=replay is not None
        )
        self.state = RoutingState(policy)
        # What the router is told of each operator: its capacity only on the channels that
        # contacts come by. A channel nobody calls on changes no decision, but every free
        # operator would stand in its queues, and be taken out of them, for nothing.
        used = {kind.channel for kind in kinds}
        self._router_specs = [
            dataclasses.replace(
                spec, capacity={ch: n for ch, n in spec.capacity.items() if ch in used}
            )
            for spec in self.roster.specs
        ]
        self._utc_offset_s = offset.total_seconds()
        self._required = (
            None
            if replay is not None
            else hourly_required(scenario, rules, policy.wrap_up_s, self.roster.specs)
        )
        self._delay = (
            sampler(scenario.offer_delay, self._offer_rng) if scenario.offer_delay else None
        )

    def run(self, progress: Callable[[float], None] | None = None) -> SimResult:
        """Simulate from the warm-up's start to the end; `progress` is told the share of
        virtual time done, now and then.

        Python's cycle collector is paused meanwhile (and left as it was found after). A
        run allocates a dozen containers a contact (events, records, timers, facts), almost
        none of them in a cycle, and the collector walked the young ones after every 700
        allocations: a tenth of a run's time, to free next to nothing (a day of 100,000
        contacts leaves some 10,000 objects in cycles, freed when it resumes)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run(progress)
        finally:
            if paused:
                gc.enable()

    def _run(self, progress: Callable[[float], None] | None) -> SimResult:
        rules, start, end, begin = self.rules, self.start, self.end, self.begin
        state = self.state
        buckets = Buckets(rules)
        # The warm-up's facts go nowhere; at the start the tracker is restarted on what it
        # holds (as after a restart of the server), operators' pieces cut at the start.
        tracker = KpiTracker()
        emit: FactSink = _DISCARD
        waiting, staffed = Levels(), Levels()
        wait_up, wait_down = waiting.steps.append, waiting.down

        heap: list[tuple[float, int, int, Any, Any]] = []
        seq = 0
        # Contacts not yet answered nor ended -> their handle time (and so: still waiting).
        handle_of: dict[str, float] = {}
        ringing: dict[str, Offered] = {}  # contact -> its open offer (with an offer delay)
        leaving: set[str] = set()  # at a shift's end, finishing what they hold
        delay = self._delay
        back_after = self.scenario.back_after_miss_s
        accept = state.accept
        # The router's events wait here for the KPI core, which takes them a few thousand at
        # a time (`_BATCH`) instead of a few at every router call: a call less per router
        # call, and the tracker's and the router's data no longer take turns in the
        # processor's caches (the KPI core's work costs about half as much in a row as
        # interleaved; the whole run 3-9 % less). Nothing in the run reads the figures
        # before the end, and the events reach the tracker in the same order.
        pending: list[Event] = []
        gather = pending.extend
        n_events = 0

        def apply(events: list[Event], now: float) -> None:
            """Pass the router's events on to the KPIs and react as the desks would. Without
            an offer delay an offer is accepted here and now, once all of `events` are passed
            on: the accept's own events follow them."""
            nonlocal seq, n_events
            n_events += len(events)
            gather(events)
            if len(pending) >= _BATCH:
                tracker.feed_to(pending, emit)
                pending.clear()
            e: Any
            for e in events:  # by how often each kind comes
                kind = type(e)
                if kind is OperatorChanged:
                    if e.reason == "missed_offer":
                        seq += 1
                        heappush(heap, (now + back_after, seq, _BACK, e.operator_id, None))
                elif kind is Offered:
                    if delay is None:
                        apply(accept(e.contact_id, e.operator_id, now), now)
                    else:
                        ringing[e.contact_id] = e
                        seq += 1
                        heappush(heap, (now + delay(), seq, _ACCEPT, e, None))
                elif kind is Accepted:
                    cid = e.contact_id
                    wait_down(now)
                    seq += 1
                    heappush(heap, (now + handle_of.pop(cid), seq, _COMPLETE, cid, e.operator_id))
                elif kind is Enqueued:
                    wait_up(now)
                elif kind is Ended:
                    if e.state in _UNANSWERED_END:
                        wait_down(now)
                        handle_of.pop(e.contact_id, None)
                elif kind is OfferWithdrawn:
                    ringing.pop(e.contact_id, None)

        # The operators, signed in as planned when the run begins.
        roster = self.roster
        ids = [spec.id for spec in roster.specs]
        index_of = {op_id: i for i, op_id in enumerate(ids)}
        for spec, presence in zip(self._router_specs, roster.initial, strict=True):
            apply(state.upsert_operator(spec, begin), begin)
            if presence is not _OFFLINE:
                apply(state.set_presence(spec.id, presence, begin), begin)
            if presence is _READY:
                staffed.up(begin)
        for at, index, presence in roster.changes:
            seq += 1
            heappush(heap, (at, seq, _PRESENCE, index, presence))
        arrivals = self._arrivals
        inf = math.inf
        # The next arrival waits beside the heap, not in it (a push and a pop less a contact),
        # with the sequence number it would have had there: the same order on equal times.
        coming: Arrival | None = next(arrivals, None)
        coming_at, coming_seq = inf, 0
        if coming is not None:
            seq += 1
            coming_at, coming_seq = coming[0], seq
        planned = list(roster.initial)
        n_contacts = 0
        span = end - begin

        def advance(until: float) -> None:
            """Everything due before `until`, in time order (router timers first on a tie)."""
            nonlocal seq, n_contacts, coming, coming_at, coming_seq
            steps = 0
            next_deadline, tick, enqueue, complete = (
                state.next_deadline,
                state.tick,
                state.enqueue,
                state.complete,
            )
            while True:
                deadline = next_deadline()
                top = heap[0][0] if heap else inf
                if coming_at < top or (coming_at == top and heap and coming_seq < heap[0][1]):
                    top = coming_at
                    kind = _ARRIVE
                else:
                    kind = -1
                if deadline is not None and deadline <= top:
                    if deadline >= until:
                        return
                    events = tick(deadline)
                    if events:  # most timers fall due stale (the contact was answered)
                        apply(events, deadline)
                    continue
                if top >= until:
                    return
                if kind == _ARRIVE:
                    assert coming is not None
                    now, k, handle_s, patience = coming
                    n_contacts += 1
                    cid = str(n_contacts)
                    handle_of[cid] = handle_s
                    contact = NewContact(cid, k.channel, k.topic, k.language, k.skills, k.priority)
                    apply(enqueue(contact, now), now)
                    if patience is not None and cid in handle_of:  # not answered at once
                        seq += 1
                        heappush(heap, (now + patience, seq, _ABANDON, cid, None))
                    coming = next(arrivals, None)
                    if coming is None:
                        coming_at = inf
                    else:
                        seq += 1
                        coming_at, coming_seq = coming[0], seq
                    steps += 1
                    if progress is not None and not steps % _PROGRESS_EVERY:
                        progress((now - begin) / span)
                    continue
                now, _, kind, a, b = heappop(heap)
                if kind == _COMPLETE:
                    apply(complete(a, b, now), now)
                    if b in leaving:
                        self._sign_off(b, now, leaving, apply)
                elif kind == _ACCEPT:
                    offer: Offered = a
                    cid = offer.contact_id
                    if ringing.get(cid) is offer:
                        del ringing[cid]
                        apply(state.accept(cid, offer.operator_id, now), now)
                elif kind == _ABANDON:
                    if a in handle_of:
                        apply(state.abandon(a, now), now)
                elif kind == _PRESENCE:
                    planned_change(a, b, now)
                else:
                    assert kind == _BACK
                    if planned[index_of[a]] is _READY and state.operator_state(a) is _ON_BREAK:
                        apply(state.set_presence(a, _READY, now), now)
                steps += 1
                if progress is not None and not steps % _PROGRESS_EVERY:
                    progress((now - begin) / span)

        def planned_change(index: int, presence: Presence, now: float) -> None:
            op_id = ids[index]
            if planned[index] is _READY:
                staffed.down(now)
            elif presence is _READY:
                staffed.up(now)
            planned[index] = presence
            leaving.discard(op_id)
            if presence is _OFFLINE:
                self._sign_off(op_id, now, leaving, apply)
            else:
                apply(state.set_presence(op_id, presence, now), now)

        advance(start)
        tracker.feed_to(pending, emit)
        pending.clear()
        tracker = _restarted(tracker, start)
        emit = buckets  # told each fact's fields: no fact is built
        advance(end)
        tracker.feed_to(pending, emit)
        pending.clear()
        buckets.add_all(tracker.open_time(end))
        if progress is not None:
            progress(1.0)
        return SimResult(
            rules,
            buckets,
            start,
            end,
            waiting.areas(rules, start, end),
            staffed.areas(rules, start, end),
            n_contacts,
            n_events,
            self._required,
            self._utc_offset_s,
        )

    def _sign_off(
        self,
        op_id: str,
        now: float,
        leaving: set[str],
        apply: Callable[[list[Event], float], None],
    ) -> None:
        """Offline if it holds nothing; else on break (no new offers) until it does."""
        try:
            events = self.state.set_presence(op_id, _OFFLINE, now)
        except Conflict:
            events = self.state.set_presence(op_id, _BREAK, now)
            leaving.add(op_id)
        else:
            leaving.discard(op_id)
        apply(events, now)


class _Discard:
    """A `FactSink` for the warm-up: its facts go nowhere."""

    def wait_ended(self, *fields: Any) -> None:
        pass

    def handle_ended(self, *fields: Any) -> None:
        pass

    def operator_time(self, *fields: Any) -> None:
        pass


_DISCARD: FactSink = _Discard()


def _restarted(tracker: KpiTracker, start: float) -> KpiTracker:
    """A tracker that goes on from `tracker`'s open contacts and operators, with each
    operator's current piece of time counted from `start` on."""
    operators = tracker.open_operators()
    for o in operators:
        o.since = max(o.since, start)
    return KpiTracker(tracker.open_contacts(), operators)
