"""Retention of personal data: what a row keeps and what it loses once it is old enough.

The voicemail watcher (`hotline.voicemail.watcher`) calls `scrub_batch` for each `KINDS` entry,
one short transaction per batch, with the instant before which rows lose their personal data
(`[retention] personal_data_days` ago). A scrubbed row keeps its figures: ids, times, topic,
channel, states, operator, breach and overflow flags, revision, counts, the outbox's attempts
and provider ids; what the KPIs and the histories read. It loses the citizen's phone, name,
e-mail and every free text (the description, outcomes, notes and comments, the SMS and e-mail
text, the voicemail's transcript): NULL where the column allows it, '' where it is NOT NULL.

Only what is finished is scrubbed, counted from when it finished:
- contacts once ended (`ended_at`); a live contact never;
- tickets once `completed` (the one final status), from their last change; an open ticket
  never, whatever its age (its citizen is still being answered), with its history's comments;
- messages once `sent`, `delivered` or `failed`, from their last change;
- voicemails once `completed` or `closed`, from their last change, with their attempts'
  comments and their history's; the recording itself goes by `[voicemail] retention_days`;
- identity checks (the phone they were made for), from when they were made;
- surveys (the phone invited), from when they were sent;
- feedback (the comment's text and its stems), from when it was given; its themes stay;
- knowledge-base searches (the query as typed and its words), from when they were made.

Each batch is idempotent (a scrubbed row no longer matches) and found through a partial index of
the rows still to scrub (migration 0007), so a sweep costs what it scrubs, not the table's size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # what the log says: "contacts", "tickets", ...
    table: str
    key: str  # the column that names a row for the follow-up statements
    due: str  # the rows still holding personal data, finished before :before
    scrub: str  # the SET clause
    follow: tuple[str, ...] = ()  # statements on related rows, given the scrubbed keys

    @property
    def index(self) -> str:
        """Migration 0007's partial index of its rows still to scrub. Named in the query: the
        planner would rather take an index on the status, which also holds the scrubbed rows."""
        return f"{self.table}_personal"


# The `due` conditions repeat, word for word, the WHERE of migration 0007's partial indexes:
# SQLite uses a partial index only for a query whose WHERE contains its terms.
KINDS: tuple[Kind, ...] = (
    Kind(
        "contacts",
        "contacts",
        "id",
        "(phone IS NOT NULL OR outcome IS NOT NULL) AND ended_at < :before",
        "phone = NULL, outcome = NULL",
        (  # the notes kept with them (migration 0015)
            "UPDATE contact_notes SET text = ''"
            " WHERE contact_id IN (SELECT value FROM json_each(:keys)) AND text != ''",
        ),
    ),
    Kind(
        "tickets",
        "tickets",
        "number",
        "status = 'completed' AND phone != '' AND updated_at < :before",
        "phone = '', full_name = NULL, email = NULL, description = ''",
        (
            "UPDATE ticket_events SET comment = NULL"
            " WHERE number IN (SELECT value FROM json_each(:keys)) AND comment IS NOT NULL",
        ),
    ),
    Kind(
        "messages",
        "messages",
        "id",
        "state IN ('sent', 'delivered', 'failed') AND recipient != '' AND updated_at < :before",
        "recipient = '', subject = NULL, body = ''",
    ),
    Kind(
        "voicemails",
        "voicemails",
        "id",
        "state IN ('completed', 'closed') AND phone != '' AND updated_at < :before",
        "phone = '', transcript = NULL",
        (
            "UPDATE voicemail_attempts SET comment = NULL"
            " WHERE voicemail_id IN (SELECT value FROM json_each(:keys)) AND comment IS NOT NULL",
            "UPDATE voicemail_events SET data = json_remove(data, '$.comment')"
            " WHERE voicemail_id IN (SELECT value FROM json_each(:keys))"
            " AND json_type(data, '$.comment') IS NOT NULL",
        ),
    ),
    Kind(
        "feedback",
        "feedback",
        "id",
        "text != '' AND at < :before",
        "text = '', terms = ''",
    ),
    Kind(
        "kb_searches",
        "kb_searches",
        "id",
        "query != '' AND at < :before",
        "query = '', normalised = ''",
    ),
    Kind(
        "identity_checks",
        "identity_checks",
        "id",
        "phone IS NOT NULL AND at < :before",
        "phone = NULL",
    ),
    Kind(  # the phone a survey went to (migration 0013), from sending; its comment is feedback
        "surveys",
        "surveys",
        "id",
        "phone IS NOT NULL AND created_at < :before",
        "phone = NULL",
    ),
)


async def scrub_batch(tx: Tx, kind: Kind, *, before: float, limit: int) -> int:
    """Scrub up to `limit` rows of `kind` finished before `before`; how many were scrubbed."""
    rows = await tx.fetchall(
        f"UPDATE {kind.table} SET {kind.scrub}"
        f" WHERE rowid IN (SELECT rowid FROM {kind.table} INDEXED BY {kind.index}"
        f"  WHERE {kind.due} LIMIT :limit)"
        f" RETURNING {kind.key} AS key",
        {"before": before, "limit": limit},
    )
    if rows and kind.follow:
        keys = json.dumps([r["key"] for r in rows], ensure_ascii=False)
        for statement in kind.follow:
            await tx.execute(statement, {"keys": keys})
    return len(rows)


async def count_due(tx: Tx, kind: Kind, *, before: float) -> int:
    """How many rows of `kind` still hold personal data past `before` (for tests and checks)."""
    row = await tx.fetchone(
        f"SELECT count(*) AS n FROM {kind.table} WHERE {kind.due}", {"before": before}
    )
    return 0 if row is None else int(row["n"])
