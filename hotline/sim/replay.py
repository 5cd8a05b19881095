"""A past day of the line, replayed with another staffing plan (`hotline simulate --replay DB
--date YYYY-MM-DD`): "what if we had had five more on payments?".

The contacts that arrived that day (and in the warm-up before it) are read from a hotline
database, read-only (an SQLite `mode=ro` URI: the database is never written; like any reader
of a WAL database, SQLite may leave its `-shm` index beside it), each at its recorded time,
with its recorded topic, channel, language and class. What the new plan cannot know is filled
in like this:
- handle time: the recorded one (accept to end) for an answered contact; for one that was not
  answered, a handle time drawn from those recorded that day for its topic and channel, else
  from the scenario's `[handle_time]`;
- patience: an abandoned contact gives up after as long as it waited that day; an answered one
  had waited that long and would have waited more: its recorded wait plus a draw of the
  scenario's `[patience]` (exact for the exponential: it has no memory), or never without one;
  a contact the service expired, or still live, never gives up.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from random import Random

from hotline.sim.arrivals import Arrival, ContactKind
from hotline.sim.draws import sampler
from hotline.sim.scenario import Scenario, ScenarioError

_READ = """
SELECT c.arrived_at, c.topic, c.channel, c.language, c.priority, c.skills, c.state,
       c.ended_at, (SELECT min(e.at) FROM contact_events e
                    WHERE e.contact_id = c.id AND e.kind = 'accepted') AS accepted_at
FROM contacts c
WHERE c.arrived_at >= ? AND c.arrived_at < ?
ORDER BY c.arrived_at, c.seq
"""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One contact as the database remembers it."""

    at: float
    kind: ContactKind
    handle_s: float | None  # accept to end, if it was answered and ended
    waited_s: float | None  # arrival to accept, if answered
    abandoned_after_s: float | None  # arrival to end, if it abandoned


def read_contacts(db: Path, begin: float, end: float) -> list[Recorded]:
    """The contacts that arrived in [begin, end), read-only; `ScenarioError` if the file is
    not a hotline database."""
    if not db.is_file():
        raise ScenarioError([("--replay", f"{db}: no such file")])
    uri = f"{db.resolve().as_uri()}?mode=ro"  # read-only: nothing is ever written
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute(_READ, (begin, end)).fetchall()
    except sqlite3.DatabaseError as e:
        raise ScenarioError([("--replay", f"{db}: not a hotline database ({e})")]) from None
    recorded = []
    for arrived, topic, channel, language, priority, skills, state, ended, accepted in rows:
        kind = ContactKind.of(topic, channel, language, priority)
        if skills is not None and kind.skills is None:  # a callback recorded with its skills
            kind = ContactKind(topic, kind.channel, language, priority, _skills(skills))
        answered = accepted is not None
        recorded.append(
            Recorded(
                arrived,
                kind,
                ended - accepted if answered and ended is not None else None,
                accepted - arrived if answered else None,
                ended - arrived if state == "abandoned" and ended is not None else None,
            )
        )
    return recorded


def _skills(column: str) -> frozenset[str]:
    return frozenset(json.loads(column))


def over(scenario: Scenario, day: dt.date, days: float = 1.0) -> Scenario:
    """`scenario` run from `day`, for `days` (its own hours or days are those of its arrivals)."""
    return scenario.model_copy(update={"start": day, "days": days, "hours": None})


def arrivals_from(db: Path, scenario: Scenario) -> Callable[[Random, float, float], list[Arrival]]:
    """What `Simulation(replay=...)` calls: the recorded contacts of the run's span as
    arrivals, their unknowns filled in from `rng` (see the module's docstring)."""

    def arrivals(rng: Random, begin: float, end: float) -> list[Arrival]:
        recorded = read_contacts(db, begin, end)
        if not recorded:
            raise ScenarioError([("--date", f"no contact arrived that day in {db}")])
        handled: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
        for r in recorded:
            if r.handle_s is not None:
                handled[(r.kind.topic, r.kind.channel)].append(r.handle_s)
        patience = sampler(scenario.patience, rng) if scenario.patience else None
        out: list[Arrival] = []
        for r in recorded:
            handle_s = r.handle_s
            if handle_s is None:
                handle_s = _handle_time(r.kind, handled, scenario, rng)
            if r.abandoned_after_s is not None:
                gives_up: float | None = r.abandoned_after_s
            elif r.waited_s is not None and patience is not None:
                gives_up = r.waited_s + patience()
            else:
                gives_up = None
            out.append((r.at, r.kind, handle_s, gives_up))
        return out

    return arrivals


def _handle_time(
    kind: ContactKind,
    handled: dict[tuple[str, str], list[float]],
    scenario: Scenario,
    rng: Random,
) -> float:
    seen = handled.get((kind.topic, kind.channel))
    if seen:
        return rng.choice(seen)
    d = scenario.handle_time_of(kind.topic)
    if d is None:
        raise ScenarioError(
            [
                (
                    f"handle_time.{kind.topic}",
                    f"required: no {kind.channel} contact of {kind.topic!r} was handled that day",
                )
            ]
        )
    return sampler(d, rng)()
