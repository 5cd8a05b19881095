"""The `sql-dispatch` baseline of `scripts/bench routing`: a FreeSWITCH mod_callcenter-style
dispatcher over in-memory SQLite tables.

`members` are the waiting contacts, `agents` the operators and `tiers` which agent serves which
queue (skill@language) at which level (proficiency). Each match is one `ORDER BY ... LIMIT 1`
query: the best waiting member of an agent's tiers, or the best free agent of a member's queue
(by tier level, then the longest since the last call ended). It has the interface of
`RoutingState` that the stream uses and makes the same offers; no timers, no events beyond the
offers. Not part of hotline: a yardstick.
"""

from __future__ import annotations

import sqlite3

from hotline.domain.errors import Conflict
from hotline.routing import Channel, NewContact, OperatorSpec, Presence, RoutingPolicy
from hotline.routing.model import Event, Offered

_SCHEMA = """
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
CREATE TABLE tiers (
    agent TEXT NOT NULL,
    queue TEXT NOT NULL,             -- skill@language
    level INTEGER NOT NULL,          -- proficiency 1..5, higher first
    PRIMARY KEY (agent, queue)
);
CREATE INDEX tiers_queue ON tiers (queue, level);
CREATE TABLE members (
    uuid TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    channel TEXT NOT NULL,
    rank INTEGER NOT NULL,
    deadline REAL NOT NULL,
    arrival REAL NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,             -- waiting | offered | assigned
    serving_agent TEXT
);
CREATE INDEX members_queue ON members (queue, state, rank, deadline, arrival, seq);
"""

# A freed agent: the best waiting member over every tier of the agent, as mod_callcenter's
# agent dispatch does it (one JOIN, ORDER BY, LIMIT 1).
_PICK_MEMBER = """
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
_PICK_AGENT = """
SELECT a.name
FROM tiers t
JOIN agents a ON a.name = t.agent
WHERE t.queue = ? AND a.status = 'ready' AND a.wrapping = 0 AND a.offer IS NULL
  AND a.certified_until > ? AND a.{ch}_load < a.{ch}_cap
ORDER BY t.level DESC, a.idle_since, a.name
LIMIT 1
"""

_CHANNELS = (Channel.VOICE.value, Channel.CHAT.value)


class SqlDispatch:
    """A FreeSWITCH mod_callcenter-style router: all state in SQLite, every match a query.

    Implements the operations of the stream with `RoutingState`'s rules (same eligibility and
    order, so it makes the same offers) but no timers: nothing falls due within the run.
    Returns only the `Offered` events, which is all the stream needs.
    """

    def __init__(self, policy: RoutingPolicy) -> None:
        self.policy = policy
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.executescript(_SCHEMA)
        self._seq = 0
        self._pick_agent = {ch: _PICK_AGENT.format(ch=ch) for ch in _CHANNELS}
        self._take = {
            ch: f"UPDATE agents SET offer = ?, {ch}_load = {ch}_load + 1 WHERE name = ?"
            for ch in _CHANNELS
        }

    def upsert_operator(self, spec: OperatorSpec, now: float) -> list[Event]:
        cap = spec.capacity
        self.db.execute(
            "INSERT INTO agents VALUES (?, 'offline', 0, NULL, ?, ?, ?, 0, ?, 0)",
            (
                spec.id,
                now,
                spec.certified_until,
                cap.get(Channel.VOICE, 0),
                cap.get(Channel.CHAT, 0),
            ),
        )
        self.db.executemany(
            "INSERT INTO tiers VALUES (?, ?, ?)",
            [
                (spec.id, f"{skill}@{lang}", level)
                for skill, level in spec.skills.items()
                for lang in spec.languages
            ],
        )
        return []

    def set_presence(self, op_id: str, presence: Presence, now: float) -> list[Event]:
        if presence is not Presence.READY:
            raise NotImplementedError("the stream only sets operators ready")
        row = self.db.execute(
            "SELECT status, wrapping FROM agents WHERE name = ?", (op_id,)
        ).fetchone()
        if row is None:
            raise Conflict(f"no agent {op_id}")
        if row[0] == "ready" and not row[1]:
            return []
        self.db.execute(
            "UPDATE agents SET status = 'ready', wrapping = 0, idle_since = ? WHERE name = ?",
            (now, op_id),
        )
        return self._route_agent(op_id, now)

    def enqueue(self, spec: NewContact, now: float) -> list[Event]:
        pc = self.policy.class_of(spec.topic, spec.priority)
        queue = f"{spec.topic}@{spec.language or self.policy.default_language}"
        self._seq += 1
        self.db.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting', NULL)",
            (spec.id, queue, spec.channel.value, pc.rank, now + pc.limit_s, now, self._seq),
        )
        return self._route_member(spec.id, queue, spec.channel.value, now)

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
            "SELECT queue, channel FROM members "
            "WHERE uuid = ? AND state = 'offered' AND serving_agent = ?",
            (contact_id, op_id),
        ).fetchone()
        if row is None:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        queue, ch = row
        self.db.execute(
            "UPDATE members SET state = 'waiting', serving_agent = NULL WHERE uuid = ?",
            (contact_id,),
        )
        self.db.execute(
            f"UPDATE agents SET offer = NULL, status = 'break', {ch}_load = {ch}_load - 1 "
            "WHERE name = ?",
            (op_id,),
        )
        return self._route_member(contact_id, queue, ch, now)

    def complete(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        row = self.db.execute(
            "SELECT channel FROM members "
            "WHERE uuid = ? AND state = 'assigned' AND serving_agent = ?",
            (contact_id, op_id),
        ).fetchone()
        if row is None:
            raise Conflict(f"contact {contact_id} is not assigned to operator {op_id}")
        ch = row[0]
        self.db.execute("DELETE FROM members WHERE uuid = ?", (contact_id,))
        wrap = 1 if self.policy.wrap_up_s > 0 else 0
        self.db.execute(
            f"UPDATE agents SET {ch}_load = {ch}_load - 1, "
            f"wrapping = CASE WHEN status = 'ready' THEN {wrap} ELSE wrapping END "
            "WHERE name = ?",
            (op_id,),
        )
        return self._route_agent(op_id, now)

    def end_wrap_up(self, op_id: str, now: float) -> list[Event]:
        cur = self.db.execute(
            "UPDATE agents SET wrapping = 0, idle_since = ? WHERE name = ? AND wrapping = 1",
            (now, op_id),
        )
        return self._route_agent(op_id, now) if cur.rowcount else []

    def abandon(self, contact_id: str, now: float) -> list[Event]:
        row = self.db.execute(
            "SELECT state, serving_agent, channel FROM members WHERE uuid = ?", (contact_id,)
        ).fetchone()
        if row is None:
            raise Conflict(f"no live contact {contact_id}")
        state, agent, ch = row
        if state == "assigned":
            raise Conflict(f"contact {contact_id} is being handled; complete it instead")
        self.db.execute("DELETE FROM members WHERE uuid = ?", (contact_id,))
        if agent is None:
            return []
        self.db.execute(
            f"UPDATE agents SET offer = NULL, {ch}_load = {ch}_load - 1 WHERE name = ?",
            (agent,),
        )
        return self._route_agent(agent, now)

    def _route_agent(self, op_id: str, now: float) -> list[Event]:
        row = self.db.execute(_PICK_MEMBER, (op_id, now)).fetchone()
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
