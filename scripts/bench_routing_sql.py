"""The SQL baselines of `scripts/bench routing`: dispatchers over in-memory SQLite tables that
make the same offers as `RoutingState`. Not part of hotline: yardsticks.

`IndexedSqlDispatch` (`sql-dispatch`, the baseline the routing target is held against) is the
strongest SQL dispatcher we know how to write: every decision is one query that the indexes
answer by seeks, never by a sort or a scan of a queue.

- A queue is `skill@language/channel`, so a queue's waiting members are one ordered range of a
  partial index (`members_waiting`, WHERE state = 'waiting') and its best is one seek.
- A freed agent's best member: for each of the agent's tiers that is free (a correlated
  subquery per tier), the top of that queue by one seek; the best of those few tops wins.
- An arriving member's best agent: `tiers` carries whether the agent could take one more
  contact of the tier's channel now (`free`) and its `idle_since`, kept up to date by a
  trigger on `agents`; a partial index (`tiers_free`, WHERE free = 1) ordered by level, then
  longest idle, gives the agent by one seek, and a queue whose agents are all busy costs one
  seek that finds nothing.
- Statements are prepared once (sqlite3's statement cache, sized for all of them), the
  connection is in autocommit with no journal (`journal_mode = OFF`, `synchronous = OFF`,
  `locking_mode = EXCLUSIVE`, `temp_store = MEMORY`): an in-memory database with nothing to
  make durable, as the core's state is in memory too.

`SortingSqlDispatch` (`sql-sort`) is the FreeSWITCH mod_callcenter-style dispatcher this bench
used before: one JOIN over every waiting member of the agent's queues, ORDER BY, LIMIT 1. Kept
as a row of the report so that the difference the indexes make is visible.

Both have the interface of `RoutingState` that the stream uses; no timers, no events beyond the
offers. They share `_SqlDispatch`: the agents and members tables and the bookkeeping of offers,
answers and capacity; each holds only its tiers and its two matching queries.
"""

from __future__ import annotations

import sqlite3
from typing import ClassVar

from hotline.domain.errors import Conflict
from hotline.routing import Channel, NewContact, OperatorSpec, Presence, RoutingPolicy
from hotline.routing.model import Event, Offered

_CHANNELS = (Channel.VOICE.value, Channel.CHAT.value)

# -- what both share: agents, members and their bookkeeping ---------------------------------------

_SHARED_SCHEMA = """
CREATE TABLE agents (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,            -- offline | ready | break
    wrapping INTEGER NOT NULL,
    offer TEXT,                      -- the member offered and not yet answered
    idle_since REAL NOT NULL,        -- mod_callcenter's last_bridge_end
    certified_until REAL,
    voice_cap INTEGER NOT NULL, voice_load INTEGER NOT NULL,
    chat_cap INTEGER NOT NULL, chat_load INTEGER NOT NULL
);
CREATE TABLE members (
    uuid TEXT PRIMARY KEY,
    queue TEXT NOT NULL,             -- the tiers' queue name
    channel TEXT NOT NULL,
    rank INTEGER NOT NULL,
    deadline REAL NOT NULL,
    arrival REAL NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,             -- waiting | offered | assigned
    serving_agent TEXT
);
"""


class _SqlDispatch:
    """All state in SQLite, every match a query; `RoutingState`'s operations with its rules
    (same eligibility and order, so the same offers) but no timers: nothing falls due within
    the run. Returns only the `Offered` events, which is all the stream needs.

    A subclass gives its tiers (`_SCHEMA`, `_add_tiers`, `_queue`) and its two matching
    queries: `_MEMBER_FOR_AGENT` (the best waiting member for a freed agent: agent, now) and
    `_AGENT_FOR_MEMBER` (the best free agent of a queue: queue, now; `{ch}` is the channel).
    """

    _SCHEMA: ClassVar[str]  # the tiers and the indexes, after _SHARED_SCHEMA
    _MEMBER_FOR_AGENT: ClassVar[str]
    _AGENT_FOR_MEMBER: ClassVar[str]
    _PRAGMAS: ClassVar[tuple[str, ...]] = ()
    _CACHED_STATEMENTS: ClassVar[int] = 128  # sqlite3's default

    def __init__(self, policy: RoutingPolicy) -> None:
        self.policy = policy
        self.db = sqlite3.connect(
            ":memory:", isolation_level=None, cached_statements=self._CACHED_STATEMENTS
        )
        for pragma in self._PRAGMAS:
            self.db.execute(pragma)
        self.db.executescript(_SHARED_SCHEMA + self._SCHEMA)
        self._seq = 0
        self._pick_agent = {ch: self._AGENT_FOR_MEMBER.format(ch=ch) for ch in _CHANNELS}
        self._take = {
            ch: f"UPDATE agents SET offer = ?, {ch}_load = {ch}_load + 1 WHERE name = ?"
            for ch in _CHANNELS
        }
        self._reject = {
            ch: f"UPDATE agents SET offer = NULL, status = 'break', {ch}_load = {ch}_load - 1 "
            "WHERE name = ?"
            for ch in _CHANNELS
        }
        wrap = 1 if policy.wrap_up_s > 0 else 0
        self._complete = {
            ch: f"UPDATE agents SET {ch}_load = {ch}_load - 1, "
            f"wrapping = CASE WHEN status = 'ready' THEN {wrap} ELSE wrapping END "
            "WHERE name = ?"
            for ch in _CHANNELS
        }
        self._withdraw = {
            ch: f"UPDATE agents SET offer = NULL, {ch}_load = {ch}_load - 1 WHERE name = ?"
            for ch in _CHANNELS
        }

    def _queue(self, skill_language: str, ch: str) -> str:
        """The queue of a member or a tier: `skill@language`, and the channel if it counts."""
        raise NotImplementedError

    def _add_tiers(self, spec: OperatorSpec, caps: dict[str, int], now: float) -> None:
        raise NotImplementedError

    def upsert_operator(self, spec: OperatorSpec, now: float) -> list[Event]:
        cap = spec.capacity
        caps = {ch: cap.get(Channel(ch), 0) for ch in _CHANNELS}
        self.db.execute(
            "INSERT INTO agents VALUES (?, 'offline', 0, NULL, ?, ?, ?, 0, ?, 0)",
            (spec.id, now, spec.certified_until, caps["voice"], caps["chat"]),
        )
        self._add_tiers(spec, caps, now)
        return []

    def set_presence(self, op_id: str, presence: Presence, now: float) -> list[Event]:
        if presence is not Presence.READY:
            raise NotImplementedError("the stream only sets operators ready")
        cur = self.db.execute(
            "UPDATE agents SET status = 'ready', wrapping = 0, idle_since = ? "
            "WHERE name = ? AND NOT (status = 'ready' AND wrapping = 0)",
            (now, op_id),
        )
        if cur.rowcount:
            return self._route_agent(op_id, now)
        if self.db.execute("SELECT 1 FROM agents WHERE name = ?", (op_id,)).fetchone() is None:
            raise Conflict(f"no agent {op_id}")
        return []

    def enqueue(self, spec: NewContact, now: float) -> list[Event]:
        pc = self.policy.class_of(spec.topic, spec.priority)
        ch = spec.channel.value
        queue = self._queue(f"{spec.topic}@{spec.language or self.policy.default_language}", ch)
        self._seq += 1
        self.db.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', NULL)",
            (spec.id, queue, ch, pc.rank, now + pc.limit_s, now, self._seq),
        )
        return self._route_member(spec.id, queue, ch, now)

    def accept(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        cur = self.db.execute(
            "UPDATE members SET state = 'assigned' "
            "WHERE uuid = ? AND state = 'offered' AND serving_agent = ?",
            (contact_id, op_id),
        )
        if cur.rowcount != 1:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        self.db.execute(
            "UPDATE agents SET offer = NULL, idle_since = ? WHERE name = ?", (now, op_id)
        )
        return self._route_agent(op_id, now)

    def reject(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        row = self.db.execute(
            "UPDATE members SET state = 'waiting', serving_agent = NULL "
            "WHERE uuid = ? AND state = 'offered' AND serving_agent = ? "
            "RETURNING queue, channel",
            (contact_id, op_id),
        ).fetchone()
        if row is None:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        queue, ch = row
        self.db.execute(self._reject[ch], (op_id,))
        return self._route_member(contact_id, queue, ch, now)

    def complete(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        row = self.db.execute(
            "DELETE FROM members WHERE uuid = ? AND state = 'assigned' AND serving_agent = ? "
            "RETURNING channel",
            (contact_id, op_id),
        ).fetchone()
        if row is None:
            raise Conflict(f"contact {contact_id} is not assigned to operator {op_id}")
        self.db.execute(self._complete[row[0]], (op_id,))
        return self._route_agent(op_id, now)

    def end_wrap_up(self, op_id: str, now: float) -> list[Event]:
        cur = self.db.execute(
            "UPDATE agents SET wrapping = 0, idle_since = ? WHERE name = ? AND wrapping = 1",
            (now, op_id),
        )
        return self._route_agent(op_id, now) if cur.rowcount else []

    def abandon(self, contact_id: str, now: float) -> list[Event]:
        row = self.db.execute(
            "DELETE FROM members WHERE uuid = ? AND state != 'assigned' "
            "RETURNING serving_agent, channel",
            (contact_id,),
        ).fetchone()
        if row is None:
            raise Conflict(f"no live contact {contact_id} waiting or offered")
        agent, ch = row
        if agent is None:
            return []
        self.db.execute(self._withdraw[ch], (agent,))
        return self._route_agent(agent, now)

    def _route_agent(self, op_id: str, now: float) -> list[Event]:
        row = self.db.execute(self._MEMBER_FOR_AGENT, (op_id, now)).fetchone()
        if row is None:
            return []
        return self._offer(row[0], row[1], op_id, now)

    def _route_member(self, uuid: str, queue: str, ch: str, now: float) -> list[Event]:
        row = self.db.execute(self._pick_agent[ch], (queue, now)).fetchone()
        if row is None:
            return []
        return self._offer(uuid, ch, row[0], now)

    def _offer(self, uuid: str, ch: str, op_id: str, now: float) -> list[Event]:
        self.db.execute(
            "UPDATE members SET state = 'offered', serving_agent = ? WHERE uuid = ?",
            (op_id, uuid),
        )
        self.db.execute(self._take[ch], (uuid, op_id))
        return [Offered(uuid, op_id, now, now + self.policy.offer_timeout_s)]


# -- the strongest: every decision an index seek ------------------------------------------------

_INDEXED_SCHEMA = """
CREATE TABLE tiers (
    agent TEXT NOT NULL,
    channel TEXT NOT NULL,
    queue TEXT NOT NULL,             -- skill@language/channel
    level INTEGER NOT NULL,          -- proficiency 1..5, higher first
    certified_until REAL,            -- the agent's, copied: checked in the seek
    idle_since REAL NOT NULL,        -- the agent's, kept by agents_to_tiers
    free INTEGER NOT NULL,           -- the agent could take one more of this channel now
    PRIMARY KEY (agent, channel, queue)
) WITHOUT ROWID;
CREATE INDEX tiers_free ON tiers (queue, level DESC, idle_since, agent) WHERE free = 1;
CREATE INDEX members_waiting ON members (queue, rank, deadline, arrival, seq)
    WHERE state = 'waiting';
CREATE TRIGGER agents_to_tiers AFTER UPDATE ON agents BEGIN
    UPDATE tiers SET idle_since = NEW.idle_since,
        free = (NEW.status = 'ready' AND NEW.wrapping = 0 AND NEW.offer IS NULL
                AND NEW.voice_load < NEW.voice_cap)
    WHERE agent = NEW.name AND channel = 'voice'
      AND (idle_since != NEW.idle_since
           OR free != (NEW.status = 'ready' AND NEW.wrapping = 0 AND NEW.offer IS NULL
                       AND NEW.voice_load < NEW.voice_cap));
    UPDATE tiers SET idle_since = NEW.idle_since,
        free = (NEW.status = 'ready' AND NEW.wrapping = 0 AND NEW.offer IS NULL
                AND NEW.chat_load < NEW.chat_cap)
    WHERE agent = NEW.name AND channel = 'chat'
      AND (idle_since != NEW.idle_since
           OR free != (NEW.status = 'ready' AND NEW.wrapping = 0 AND NEW.offer IS NULL
                       AND NEW.chat_load < NEW.chat_cap));
END;
"""

# A freed agent: the top of each of its free tiers' queues (one seek each), the best of them.
_SEEK_MEMBER = """
SELECT m.uuid, m.channel
FROM tiers t
JOIN members m ON m.rowid = (
    SELECT rowid FROM members
    WHERE queue = t.queue AND state = 'waiting'
    ORDER BY rank, deadline, arrival, seq
    LIMIT 1
)
WHERE t.agent = ? AND t.free = 1 AND t.certified_until > ?
ORDER BY m.rank, m.deadline, m.arrival, m.seq
LIMIT 1
"""

# An arriving (or returned) member: the free agent of its queue with the highest tier level,
# then the one idle longest (one seek on tiers_free).
_SEEK_AGENT = """
SELECT agent FROM tiers
WHERE queue = ? AND free = 1 AND certified_until > ?
ORDER BY level DESC, idle_since, agent
LIMIT 1
"""


class IndexedSqlDispatch(_SqlDispatch):
    """Every match one query answered by index seeks (see the module): a queue per channel,
    tiers that carry whether their agent is free, a trigger that keeps them so."""

    _SCHEMA = _INDEXED_SCHEMA
    _MEMBER_FOR_AGENT = _SEEK_MEMBER
    _AGENT_FOR_MEMBER = _SEEK_AGENT
    _PRAGMAS = (
        "PRAGMA journal_mode = OFF",
        "PRAGMA synchronous = OFF",
        "PRAGMA locking_mode = EXCLUSIVE",
        "PRAGMA temp_store = MEMORY",
    )
    _CACHED_STATEMENTS = 64

    def _queue(self, skill_language: str, ch: str) -> str:
        return f"{skill_language}/{ch}"

    def _add_tiers(self, spec: OperatorSpec, caps: dict[str, int], now: float) -> None:
        self.db.executemany(
            "INSERT INTO tiers VALUES (?, ?, ?, ?, ?, ?, 0)",
            [
                (spec.id, ch, f"{skill}@{lang}/{ch}", level, spec.certified_until, now)
                for ch in _CHANNELS
                if caps[ch] > 0
                for skill, level in spec.skills.items()
                for lang in spec.languages
            ],
        )


# -- the mod_callcenter-style one: a sort of the agent's waiting members -------------------------

_SORTING_SCHEMA = """
CREATE TABLE tiers (
    agent TEXT NOT NULL,
    queue TEXT NOT NULL,             -- skill@language
    level INTEGER NOT NULL,          -- proficiency 1..5, higher first
    PRIMARY KEY (agent, queue)
);
CREATE INDEX tiers_queue ON tiers (queue, level);
CREATE INDEX members_queue ON members (queue, state, rank, deadline, arrival, seq);
"""

# A freed agent: the best waiting member over every tier of the agent, as mod_callcenter's
# agent dispatch does it (one JOIN, ORDER BY, LIMIT 1).
_SORT_MEMBERS = """
SELECT m.uuid, m.channel
FROM agents a
JOIN tiers t ON t.agent = a.name
JOIN members m ON m.queue = t.queue AND m.state = 'waiting'
WHERE a.name = ? AND a.status = 'ready' AND a.wrapping = 0 AND a.offer IS NULL
  AND a.certified_until > ?
  AND ((m.channel = 'voice' AND a.voice_load < a.voice_cap)
       OR (m.channel = 'chat' AND a.chat_load < a.chat_cap))
ORDER BY m.rank, m.deadline, m.arrival, m.seq
LIMIT 1
"""

# An arriving (or returned) member: the free agent of its queue with the highest tier level,
# then the one whose last call ended longest ago.
_SORT_AGENTS = """
SELECT a.name
FROM tiers t
JOIN agents a ON a.name = t.agent
WHERE t.queue = ? AND a.status = 'ready' AND a.wrapping = 0 AND a.offer IS NULL
  AND a.certified_until > ? AND a.{ch}_load < a.{ch}_cap
ORDER BY t.level DESC, a.idle_since, a.name
LIMIT 1
"""


class SortingSqlDispatch(_SqlDispatch):
    """A FreeSWITCH mod_callcenter-style router: a queue per skill and language for every
    channel, and each match one JOIN over it, sorted (see the module)."""

    _SCHEMA = _SORTING_SCHEMA
    _MEMBER_FOR_AGENT = _SORT_MEMBERS
    _AGENT_FOR_MEMBER = _SORT_AGENTS

    def _queue(self, skill_language: str, ch: str) -> str:
        return skill_language

    def _add_tiers(self, spec: OperatorSpec, caps: dict[str, int], now: float) -> None:
        self.db.executemany(
            "INSERT INTO tiers VALUES (?, ?, ?)",
            [
                (spec.id, f"{skill}@{lang}", level)
                for skill, level in spec.skills.items()
                for lang in spec.languages
            ],
        )
