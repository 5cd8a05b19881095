"""Migration 0017: the dates supervisors typed before the journal become its first entries."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from hotline.store import open_store
from hotline.store.certifications import journal_of
from hotline.store.events import load_operators
from hotline.store.migrate import available_migrations, split_statements

JOURNAL = 17


def _schema_before_the_journal(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        for m in available_migrations():
            if m.version >= JOURNAL:
                break
            for statement in split_statements(m.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (m.version, m.name)
            )
        for op_id, until in (("typed", "2027-03-31"), ("never", None)):
            conn.execute(
                "INSERT INTO operators (id, name, skills, languages, capacity, certified_until,"
                " created_at, updated_at) VALUES (?, 'Имя', '{}', '[\"ru\"]', '{}', ?, 5, 7)",
                (op_id, until),
            )
        conn.commit()


async def test_typed_dates_become_imported_entries_and_the_profile_keeps_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _schema_before_the_journal(path)
    async with open_store(path) as store:
        typed = await store.read(lambda tx: journal_of(tx, "typed"))
        never = await store.read(lambda tx: journal_of(tx, "never"))
        ops = await store.read(load_operators)
    assert [(e.kind, str(e.valid_until), e.passed, e.taken_at) for e in typed] == [
        ("imported", "2027-03-31", True, 7.0)
    ]
    assert never == []
    assert {o.profile.id: str(o.profile.certified_until) for o in ops} == {
        "typed": "2027-03-31",
        "never": "None",
    }
