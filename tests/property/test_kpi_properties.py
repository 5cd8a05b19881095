"""Stateful property test of the KPI core (`hotline.kpi`) fed by the real routing core.

A `RoutingState` is driven by random commands and times, with the routing state machine's own
strategies (`test_routing_state_machine`), callbacks and urgent contacts added; every event it
decides goes, one at a time, to a `KpiTracker`, whose facts go to `Buckets` of 1, 15 and 60
minutes and of a day. Beside them `ExpectedKpis` works out from the same events what the
definitions say each contact's wait and each operator's time were. After every step:

- each contact's wait is counted exactly once, when and as it ended, in the interval holding
  its end; answered + abandoned + expired + still waiting = inbound contacts enqueued, while
  callbacks count only in the voicemail figure;
- the interval lengths give the same whole; the queue and operator sides agree on answered,
  handled and talk time; each operator's pieces of time never overlap and cover its time
  since its first event up to now, busy and open as the definitions say;
- the whole line's figures are sound (every interval's and group's too, at the end): service
  level grows with T for every basis, ratios lie in [0, 1] and are None exactly when there is
  nothing to divide;
- a tracker restored from another's open contacts and operators at any point goes on to the
  same facts; splitting the fact stream anywhere into two `Buckets` adds up to the whole, and
  `Tally.merge` is associative and commutative with `Tally(n)` as its identity.

Every instant is a whole number of seconds, so every sum of waits and times is exact in a
float and tallies compare with `==`: a difference is a miscount, never rounding.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from hotline.domain.errors import HotlineError
from hotline.kpi import (
    BASES,
    Buckets,
    KpiRules,
    KpiTracker,
    OperatorTime,
    Tally,
    WaitEnded,
    figures,
)
from hotline.kpi.facts import Fact
from hotline.routing import Channel, ContactState, NewContact, OperatorSpec, Presence
from hotline.routing.model import (
    Accepted,
    Ended,
    Event,
    OfferWithdrawn,
    OperatorChanged,
    OperatorState,
)
from hotline.routing.state import RoutingState
from tests.property.kpi_model import ExpectedKpis, local_interval
from tests.property.test_routing_state_machine import (
    LANGUAGES,
    OFFER_TIMEOUTS,
    OPERATORS,
    SKILLS,
    TOPICS,
    capacities,
    certification,
    languages,
    restarted,
    skill_levels,
    steps,
)
from tests.routing_fixtures import T0, policy

MOSCOW_MIDNIGHT = T0 + 13 * 3600  # T0 is 11:00 in Moscow
# Runs start at 11:00, an hour before Moscow's midnight, and half an hour before UTC's.
STARTS = (T0, MOSCOW_MIDNIGHT - 3600, MOSCOW_MIDNIGHT + 3 * 3600 - 1800)
INTERVALS = (60, 900, 3600, 86_400)
RULES = {n: KpiRules(thresholds=(5, 20, 25, 30, 60), interval_s=n) for n in INTERVALS}
MAIN = RULES[900]
ON_EACH_BASIS = [KpiRules(thresholds=MAIN.thresholds, basis=basis) for basis in BASES]
# Waits around the thresholds and the short abandon (5 s), besides the routing test's steps.
fine_steps = st.sampled_from([1.0, 4.0, 5.0, 6.0, 19.0, 20.0, 21.0, 25.0, 29.0, 31.0])
with_callbacks = st.tuples(capacities, st.integers(0, 1)).map(
    lambda c: {**c[0], Channel.CALLBACK: c[1]}
)


def whole(facts: Iterable[Fact], rules: KpiRules = MAIN) -> Buckets:
    b = Buckets(rules)
    b.add_all(facts)
    return b


def denominators(t: Tally, basis: str) -> dict[str, float]:
    """Each ratio of FIGURES and what it divides by."""
    base = {
        "answered": t.answered,
        "offered": t.answered + t.abandoned,
        "offered_minus_short": t.answered + t.abandoned - t.short_abandoned,
        "sl2": t.answered + t.abandoned,
    }[basis]
    return {
        "asa_s": t.answered,
        "abandon_rate": t.offered - t.short_abandoned,
        "aht_s": t.handled,
        "talk_s": t.handled,
        "wrap_s": t.handled,
        "occupancy": t.open_s,
        "voicemail_within_hour": t.vm_due,
        **{f"sl{T}": base for T in MAIN.thresholds},
        **{f"deadline_{c}": t.deadline_due.get(c, 0) for c in MAIN.classes},
    }


def check_figures(t: Tally) -> None:
    for rules in ON_EACH_BASIS:
        basis = rules.basis
        f = figures(t, rules)
        ratios = {
            **{k: f[k] for k in ("asa_s", "abandon_rate", "aht_s", "talk_s", "wrap_s")},
            "occupancy": f["occupancy"],
            "voicemail_within_hour": f["voicemail_within_hour"],
            **{
                f"sl{T}": v
                for T, v in zip(MAIN.thresholds, f["service_level"].values(), strict=True)
            },
            **{f"deadline_{c}": v for c, v in f["deadline_met"].items()},
        }
        for name, below in denominators(t, basis).items():
            assert (ratios[name] is None) == (below == 0), (basis, name, ratios[name], below)
        shares = [v for k, v in ratios.items() if k not in ("asa_s", "aht_s", "talk_s", "wrap_s")]
        assert all(0 <= v <= 1 for v in shares if v is not None), (basis, ratios)
        levels = list(f["service_level"].values())
        if levels[0] is not None:
            assert levels == sorted(levels), f"{basis}: service level falls as T grows: {levels}"


class KpiMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.start = self.now = T0
        self.router = RoutingState(policy())
        self.tracker = KpiTracker()
        self.expected = ExpectedKpis()
        self.facts: list[Fact] = []
        self.waits_of: dict[str, list[WaitEnded]] = {}
        self.buckets = {n: Buckets(rules) for n, rules in RULES.items()}
        # Trackers restored from the main one's open records, with the facts they gave since.
        self.restored: list[tuple[KpiTracker, int, list[Fact]]] = []
        self.serial = 0

    @initialize(
        start=st.sampled_from(STARTS),
        offer_timeout=st.sampled_from(OFFER_TIMEOUTS),
        staffed=st.integers(0, 3),
    )
    def open_the_line(self, start: float, offer_timeout: float, staffed: int) -> None:
        note(f"start {start}, offers last {offer_timeout} s, {staffed} operators ready")
        self.start = self.now = start
        self.router = RoutingState(policy(offer_timeout_s=offer_timeout))
        capacity = {Channel.VOICE: 1, Channel.CHAT: 3, Channel.CALLBACK: 1}
        for op_id in OPERATORS[:staffed]:
            spec = OperatorSpec(
                op_id, dict.fromkeys(SKILLS, 3), frozenset(LANGUAGES), capacity, start + 86_400
            )
            self.run(lambda r, spec=spec: r.upsert_operator(spec, self.now))
            self.run(lambda r, op_id=op_id: r.set_presence(op_id, Presence.READY, self.now))

    # -- driving the router, feeding the tracker --------------------------------------------

    def run(self, op: Callable[[RoutingState], list[Event]]) -> list[Event] | None:
        try:
            events = op(self.router)
        except HotlineError as error:
            note(f"refused: {type(error).__name__}")
            return None
        self.feed(events)
        return events

    def feed(self, events: list[Event]) -> None:
        for event in events:
            note(repr(event))
            out: list[Fact] = []
            self.tracker.feed(event, out.append)
            for tracker, _, facts in self.restored:
                tracker.feed(event, facts.append)
            self.expected.see(event)
            for fact in out:
                note(f"  -> {fact!r}")
                instants = (fact.start, fact.end) if isinstance(fact, OperatorTime) else (fact.at,)
                assert all(at.is_integer() for at in instants), "sums would not be exact"
                self.facts.append(fact)
                for b in self.buckets.values():
                    b.add(fact)
                if isinstance(fact, WaitEnded):
                    assert isinstance(event, Accepted | Ended)
                    self.waits_of.setdefault(event.contact_id, []).append(fact)

    def contacts_in(self, *states: ContactState) -> list[str]:
        return sorted(c.id for c in self.router._contacts.values() if c.state in states)

    # -- operators --------------------------------------------------------------------------

    @rule(
        op_id=st.sampled_from(OPERATORS),
        skills=skill_levels,
        langs=languages,
        capacity=with_callbacks,
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
        until = None if cert is None else self.start + cert
        spec = OperatorSpec(op_id, skills, langs, capacity, until)
        self.run(lambda r: r.upsert_operator(spec, self.now))

    @rule(op_id=st.sampled_from(OPERATORS), presence=st.sampled_from(list(Presence)))
    def set_presence(self, op_id: str, presence: Presence) -> None:
        self.run(lambda r: r.set_presence(op_id, presence, self.now))

    @precondition(lambda self: self.router._ops)
    @rule(data=st.data())
    def an_operator_is_ready(self, data: st.DataObject) -> None:
        op_id = data.draw(st.sampled_from(sorted(self.router._ops)))
        self.run(lambda r: r.set_presence(op_id, Presence.READY, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.ASSIGNED))
    @rule(data=st.data())
    def an_operator_pauses_with_work_in_hand(self, data: st.DataObject) -> None:
        """Asks for a break while handling a contact, so that no new one comes after it: the
        router shows it on break at once, though it is still busy with the contact."""
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.ASSIGNED)))
        op_id = self.router.holder_of(cid)
        assert op_id is not None
        self.run(lambda r: r.set_presence(op_id, Presence.BREAK, self.now))

    @rule(op_id=st.sampled_from(OPERATORS))
    def remove_operator(self, op_id: str) -> None:
        self.run(lambda r: r.remove_operator(op_id, self.now))

    @rule(op_id=st.sampled_from(OPERATORS))
    def end_wrap_up(self, op_id: str) -> None:
        self.run(lambda r: r.end_wrap_up(op_id, self.now))

    # -- contacts ---------------------------------------------------------------------------

    @rule(
        topic=st.sampled_from(TOPICS),
        channel=st.sampled_from([Channel.VOICE, Channel.CHAT, Channel.CALLBACK]),
        language=st.sampled_from(LANGUAGES),
        urgent=st.booleans(),
    )
    def enqueue(self, topic: str, channel: Channel, language: str, urgent: bool) -> None:
        self.serial += 1
        skills = frozenset({"callback", topic}) if channel is Channel.CALLBACK else None
        priority = "urgent" if urgent else None
        spec = NewContact(f"c{self.serial}", channel, topic, language, skills, priority)
        self.run(lambda r: r.enqueue(spec, self.now))

    @rule(topics=st.lists(st.sampled_from(TOPICS), min_size=2, max_size=3))
    def chats_arrive_and_are_taken(self, topics: list[str]) -> None:
        """Chats of several topics, every offer answered at once: an operator holds several,
        and the wrap-up after one of them runs while it ends the next (random rules alone
        seldom get there)."""
        for topic in topics:
            self.serial += 1
            spec = NewContact(f"c{self.serial}", Channel.CHAT, topic, "ru")
            self.run(lambda r, spec=spec: r.enqueue(spec, self.now))
            for cid in self.contacts_in(ContactState.OFFERED):
                op_id = self.router.holder_of(cid)
                assert op_id is not None
                self.run(lambda r, cid=cid, op_id=op_id: r.accept(cid, op_id, self.now))

    def holders_of_several(self) -> list[str]:
        held = Counter(
            self.router.holder_of(cid) for cid in self.contacts_in(ContactState.ASSIGNED)
        )
        return sorted(op_id for op_id, n in held.items() if op_id is not None and n > 1)

    @precondition(lambda self: self.holders_of_several())
    @rule(data=st.data(), gap=fine_steps)
    def an_operator_ends_two_contacts_apart(self, data: st.DataObject, gap: float) -> None:
        op_id = data.draw(st.sampled_from(self.holders_of_several()))
        mine = [
            c for c in self.contacts_in(ContactState.ASSIGNED) if self.router.holder_of(c) == op_id
        ]
        first, second = data.draw(st.permutations(mine))[:2]
        self.run(lambda r: r.complete(first, op_id, self.now))
        self.time_passes(gap)
        if self.router.has_operator(op_id) and second in self.router._contacts:
            self.run(lambda r: r.complete(second, op_id, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.OFFERED))
    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.OFFERED)))
        op_id = self.router.holder_of(cid)
        assert op_id is not None
        if accept:
            self.run(lambda r: r.accept(cid, op_id, self.now))
        else:
            self.run(lambda r: r.reject(cid, op_id, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.OFFERED))
    @rule(data=st.data())
    def offer_times_out(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(self.contacts_in(ContactState.OFFERED)))
        self.run(lambda r: r.offer_timeout(cid, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.ASSIGNED, ContactState.WAITING))
    @rule(data=st.data(), transfer_to=st.none() | st.sampled_from(TOPICS))
    def finish(self, data: st.DataObject, transfer_to: str | None) -> None:
        """Complete an assigned contact, or transfer a waiting or assigned one."""
        live = self.contacts_in(ContactState.ASSIGNED, ContactState.WAITING)
        cid = data.draw(st.sampled_from(live))
        op_id = self.router.holder_of(cid)
        if transfer_to is None and op_id is not None:
            self.run(lambda r: r.complete(cid, op_id, self.now))
        elif transfer_to is not None:
            self.serial += 1
            new = NewContact(f"c{self.serial}", Channel.VOICE, transfer_to)
            self.run(lambda r: r.transfer(cid, new, self.now))

    @precondition(lambda self: self.contacts_in(ContactState.WAITING, ContactState.OFFERED))
    @rule(data=st.data(), give_up=st.booleans())
    def citizen_leaves(self, data: st.DataObject, give_up: bool) -> None:
        live = self.contacts_in(ContactState.WAITING, ContactState.OFFERED)
        cid = data.draw(st.sampled_from(live))
        if give_up:
            self.run(lambda r: r.expire(cid, self.now))
        else:
            self.run(lambda r: r.abandon(cid, self.now))

    @rule()
    def restart(self) -> None:
        """The router rebuilt as `hotline.recovery` does it, which records that operators went
        offline and offers were withdrawn; the tracker lives on (the journal's is restored
        from the store: `restore_a_tracker` checks that this makes no difference)."""
        old = self.router
        events: list[Event] = [
            OperatorChanged(op.id, self.now, OperatorState.OFFLINE, "restart")
            for op in old._ops.values()
            if op.state() is not OperatorState.OFFLINE
        ]
        events += [
            OfferWithdrawn(c.id, c.operator, self.now, "restart")
            for c in old._contacts.values()
            if c.state is ContactState.OFFERED and c.operator is not None
        ]
        self.router = restarted(old, self.now)
        self.feed(events)
        self.run(lambda r: r.tick(self.now))

    @precondition(lambda self: len(self.restored) < 2)
    @rule()
    def restore_a_tracker(self) -> None:
        tracker = KpiTracker(self.tracker.open_contacts(), self.tracker.open_operators())
        self.restored.append((tracker, len(self.facts), []))

    # -- time -------------------------------------------------------------------------------

    @rule(dt=steps | fine_steps)
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self.run(lambda r: r.tick(self.now))

    @rule()
    def jump_to_next_deadline(self) -> None:
        due = self.router.next_deadline()
        if due is not None and due > self.now:
            self.now = due
        self.run(lambda r: r.tick(self.now))

    # -- checks that need a choice ----------------------------------------------------------

    @rule(data=st.data())
    def split_the_stream(self, data: st.DataObject) -> None:
        """The facts up to any point and those after, in two `Buckets`, add up key by key."""
        at = data.draw(st.integers(0, len(self.facts)), label="split after")
        first, rest = whole(self.facts[:at]), whole(self.facts[at:])
        full = self.buckets[900]
        for side in ("queues", "operators"):
            a, b, both = getattr(first, side), getattr(rest, side), getattr(full, side)
            assert set(a) | set(b) == set(both)
            n = len(MAIN.thresholds)
            for key, t in both.items():
                assert Tally(n).merge(a.get(key, Tally(n))).merge(b.get(key, Tally(n))) == t
        assert first.total().merge(rest.total()) == full.total()

    @precondition(lambda self: self.buckets[900].queues)
    @rule(data=st.data())
    def merge_is_a_sum(self, data: st.DataObject) -> None:
        b = self.buckets[900]
        pool = sorted(b.queues.items()) + sorted(b.operators.items(), key=repr)
        a, x, y = (data.draw(st.sampled_from(pool))[1] for _ in range(3))
        zero = Tally(len(MAIN.thresholds))
        assert a.copy().merge(x).merge(y) == a.copy().merge(x.copy().merge(y))
        assert a.copy().merge(x) == x.copy().merge(a)
        assert zero.copy().merge(a) == a == a.copy().merge(zero)

    # -- what must hold after every step ----------------------------------------------------

    @invariant()
    def every_wait_counts_once_as_it_ended(self) -> None:
        expected = self.expected.waits
        assert set(self.waits_of) == set(expected)
        for cid, facts in self.waits_of.items():
            assert facts == [expected[cid]], cid
        waiting = {c.id for c in self.tracker.waiting}
        assert waiting == self.expected.waiting(callbacks=False) | self.expected.waiting(
            callbacks=True
        )

    @invariant()
    def waits_count_in_the_interval_of_their_end(self) -> None:
        for n, b in self.buckets.items():
            offered: Counter[tuple[float, str, str, str]] = Counter()
            vm_due: Counter[tuple[float, str, str, str]] = Counter()
            for w in self.expected.waits.values():
                key = (local_interval(w.at, n), w.topic, w.priority, w.channel)
                if w.channel != Channel.CALLBACK.value:
                    offered[key] += 1
                elif w.deadline_met is not None:
                    vm_due[key] += 1
            assert Counter({k: t.offered for k, t in b.queues.items() if t.offered}) == offered
            assert Counter({k: t.vm_due for k, t in b.queues.items() if t.vm_due}) == vm_due

    @invariant()
    def contacts_add_up(self) -> None:
        t = self.buckets[900].total()
        waiting = self.expected.waiting(callbacks=False)
        inbound = self.expected.enqueued[False]
        assert (
            t.answered + t.abandoned + t.expired + len(waiting)
            == inbound
            == t.offered + len(waiting)
        )
        callbacks_due = sum(
            1
            for w in self.expected.waits.values()
            if w.channel == Channel.CALLBACK.value and w.deadline_met is not None
        )
        assert t.vm_due == callbacks_due

    @invariant()
    def intervals_give_the_same_whole(self) -> None:
        totals = [b.total() for b in self.buckets.values()]
        assert all(t == totals[0] for t in totals[1:])
        check_figures(totals[0])

    def teardown(self) -> None:
        """The figures of every interval and group at the end (after every step, only the
        whole line's: checking them all each time cost three quarters of the run)."""
        for b in self.buckets.values():
            for t in (*b.queues.values(), *b.operators.values()):
                check_figures(t)

    @invariant()
    def queue_and_operator_sides_agree(self) -> None:
        b = self.buckets[900]
        for name in ("answered", "handled", "talk_sum"):
            by_queue: defaultdict[float, float] = defaultdict(float)
            by_operator: defaultdict[float, float] = defaultdict(float)
            for (start, *_), t in b.queues.items():
                by_queue[start] += getattr(t, name)
            for (start, _), t in b.operators.items():
                by_operator[start] += getattr(t, name)
            assert {k: v for k, v in by_queue.items() if v} == {
                k: v for k, v in by_operator.items() if v
            }, name

    @invariant()
    def operator_time_is_whole_and_never_overlaps(self) -> None:
        pieces: dict[str, list[OperatorTime]] = {}
        for f in (*self.facts, *self.tracker.open_time(self.now)):
            if isinstance(f, OperatorTime):
                pieces.setdefault(f.operator_id, []).append(f)
        for op_id, op in self.expected.operators.items():
            mine = sorted(pieces.pop(op_id, []), key=lambda p: p.start)
            ends = [op.first_seen] + [p.end for p in mine]
            starts = [p.start for p in mine] + [self.now]
            assert ends == starts, f"{op_id}'s time has a gap or an overlap: {mine}"
            assert all(p.start < p.end for p in mine)
        assert not pieces, "time of an operator the router never named"
        now = self.buckets[900]
        live = Buckets(MAIN)
        live.add_all(self.tracker.open_time(self.now))
        times, wrap = self.expected.time_until(self.now)
        for op_id, (open_s, busy_s) in times.items():
            got = Tally(len(MAIN.thresholds))
            for b in (now, live):
                for (_, who), t in b.operators.items():
                    if who == op_id:
                        got.merge(t)
            assert (got.open_s, got.busy_s) == (open_s, busy_s), op_id
        by_group: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        for b in (now, live):
            for (_, *group), t in b.queues.items():
                by_group[(group[0], group[1], group[2])] += t.wrap_sum
        assert {g: s for g, s in by_group.items() if s} == {g: s for g, s in wrap.items() if s}

    @invariant()
    def restored_trackers_go_on_alike(self) -> None:
        for tracker, since, facts in self.restored:
            assert facts == self.facts[since:]
            assert sorted(map(repr, tracker.open_time(self.now))) == sorted(
                map(repr, self.tracker.open_time(self.now))
            )
            assert {c.id for c in tracker.waiting} == {c.id for c in self.tracker.waiting}


KpiMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestKpiMachine = KpiMachine.TestCase
