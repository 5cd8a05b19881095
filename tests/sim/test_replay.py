"""`--replay DB --date D`: a past day's contacts, at their recorded times and with their
recorded handle times and patience, meet the scenario's operators; the database is only read."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import trio

from hotline.cli import main
from hotline.store import open_store
from tests.sim.conftest import CONFIG

MOSCOW = ZoneInfo("Europe/Moscow")
DAY = dt.date(2026, 3, 2)


def _at(hour: int, minute: int, second: float = 0) -> float:
    return dt.datetime(2026, 3, 2, hour, minute, tzinfo=MOSCOW).timestamp() + second


async def _migrate(db: Path) -> None:
    async with open_store(db):
        pass  # the real schema, migrated


@pytest.fixture
def recorded_day(tmp_path: Path) -> Path:
    """A day: 60 calls answered 10 s after arriving, talking 5 min; 20 that hung up after
    40 s; one the next day."""
    db = tmp_path / "hotline.db"
    trio.run(_migrate, db)
    rows = []
    events = []
    for i in range(80):
        cid = f"c{i}"
        arrived = _at(9, 0, i * 30)
        if i < 60:
            accepted, ended, state = arrived + 10, arrived + 310, "completed"
            events.append((cid, accepted, "accepted", "op1"))
        else:
            ended, state = arrived + 40, "abandoned"
        rows.append((cid, "voice", "payments", "ru", "urgent", state, arrived, ended, i))
    rows.append(
        ("late", "voice", "payments", "ru", "urgent", "abandoned", _at(9, 0) + 86_400, None, 99)
    )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO contacts (id, channel, topic, language, priority, state, arrived_at,"
            " target_at, deadline_at, seq, created_at, updated_at, ended_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?7, ?7 + 300, ?7 + 600, ?9, ?7, ?7, ?8)",
            rows,
        )
        conn.executemany(
            "INSERT INTO contact_events (contact_id, at, kind, operator_id) VALUES (?, ?, ?, ?)",
            events,
        )
    conn.close()
    return db


def _scenario(tmp_path: Path, operators: int) -> Path:
    path = tmp_path / f"plan{operators}.toml"
    path.write_text(
        f"warmup_min = 30\n[[operators]]\ncount = {operators}\nskills = {{ payments = 4 }}\n"
    )
    return path


def _replay(tmp_path: Path, db: Path, operators: int, capsys: pytest.CaptureFixture[str]) -> dict:
    argv = ["simulate", str(_scenario(tmp_path, operators)), "--json", "--config", str(CONFIG)]
    assert main([*argv, "--replay", str(db), "--date", DAY.isoformat()]) == 0
    return json.loads(capsys.readouterr().out)["total"]


def test_a_recorded_day_meets_another_plan_and_the_database_is_only_read(
    recorded_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hashlib.sha256(recorded_day.read_bytes()).hexdigest()
    files = sorted(p.name for p in recorded_day.parent.iterdir())
    plenty = _replay(tmp_path, recorded_day, 20, capsys)
    # Every contact of the day (not the next day's) is answered at once by 20 operators,
    # those who hung up that day too; each talks as long as it did (5 min) or, if it was not
    # answered that day, as long as one drawn from the day's talks.
    assert plenty["offered"] == plenty["answered"] == 80
    assert plenty["talk_s"] == pytest.approx(300.0)
    assert plenty["asa_s"] == 0
    one = _replay(tmp_path, recorded_day, 1, capsys)
    # One operator for a call every 30 s of 5 min each: the 20 who hung up after 40 s do so
    # again, and the answered ones, who had no patience in the scenario, wait their turn.
    assert one["abandoned"] == 20
    assert one["offered"] == 20 + one["answered"]
    assert hashlib.sha256(recorded_day.read_bytes()).hexdigest() == before
    # No file but SQLite's own index of the write-ahead log, which any reader of a WAL
    # database keeps beside it; the log itself, if a reader made one, stays empty.
    made = {p.name for p in recorded_day.parent.iterdir()} - set(files)
    assert made - {"hotline.db-shm", "hotline.db-wal"} == {"plan1.toml", "plan20.toml"}
    wal = recorded_day.with_name("hotline.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_replay_needs_its_date_and_a_day_with_contacts(
    recorded_day: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = str(_scenario(tmp_path, 3))
    assert main(["simulate", plan, "--replay", str(recorded_day)]) == 2
    assert "--replay DB and --date YYYY-MM-DD go together" in capsys.readouterr().err
    argv = ["simulate", plan, "--config", str(CONFIG), "--replay", str(recorded_day)]
    assert main([*argv, "--date", "2026-03-05"]) == 2
    assert "hotline: scenario error: --date: no contact arrived that day" in capsys.readouterr().err
    not_a_db = tmp_path / "x.db"
    not_a_db.write_text("hello")
    argv = ["simulate", plan, "--config", str(CONFIG), "--replay", str(not_a_db)]
    assert main([*argv, "--date", "2026-03-02"]) == 2
    assert "not a hotline database" in capsys.readouterr().err


def test_a_scenario_without_arrivals_needs_a_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(_scenario(tmp_path, 3)), "--config", str(CONFIG)]) == 2
    assert "scenario error: arrivals: at least one is needed" in capsys.readouterr().err
