"""The `hotline` command's database verbs: migrate and create-token, as a deployer runs them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hotline.cli import main
from hotline.services.auth import hash_token
from hotline.store.migrate import available_migrations


def test_migrate_creates_the_database_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "var" / "hotline.db"
    assert main(["migrate", "--db", str(db)]) == 0
    assert main(["migrate", "--db", str(db)]) == 0

    with closing(sqlite3.connect(db)) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in available_migrations()]
    assert "schema up to date" in capsys.readouterr().out


def test_create_token_prints_a_token_whose_hash_alone_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hotline.db"
    code = main(["create-token", "--db", str(db), "--role", "operator", "--operator", "op-7"])

    assert code == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("hl_") and len(token) > 40
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT token_hash, role, operator_id FROM api_tokens").fetchall()
    assert rows == [(hash_token(token), "operator", "op-7")]


@pytest.mark.parametrize(
    "argv",
    [
        ["create-token", "--role", "operator"],  # an operator token names its operator
        ["create-token", "--role", "supervisor", "--operator", "op-1"],
    ],
)
def test_create_token_refuses_an_operator_mismatch(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", str(tmp_path / "hotline.db")]) == 2
    assert "--operator" in capsys.readouterr().err


def test_create_token_refuses_an_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["create-token", "--role", "root", "--db", str(tmp_path / "hotline.db")])
    assert stopped.value.code == 2


def test_import_citizens_checks_every_record_before_writing_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hotline.db"
    good = tmp_path / "register.csv"
    good.write_text(
        "full_name,phone,inn,snils\n"
        "Иванова Мария Петровна,8 916 123-45-67,500123456750,\n"
        "Петров Пётр,+79031112233,,112-233-445 95\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "full_name,phone,inn,snils\n"
        "Сидоров Иван,+79035550000,,\n"  # neither INN nor SNILS
        "Петров Пётр,+79031112233,,112-233-445 95\n",
        encoding="utf-8",
    )

    assert main(["import-citizens", "--db", str(db), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:2: inn:" in err and "nothing imported" in err
    assert main(["import-citizens", "--db", str(db), str(good)]) == 0
    assert main(["import-citizens", "--db", str(db), str(good)]) == 0  # again: updates
    out = capsys.readouterr().out
    assert "2 citizens read" in out and "500123456750" not in out
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT name_key, phone FROM citizens ORDER BY id").fetchall()
    assert rows == [
        ("иванова мария петровна", "+79161234567"),
        ("петров петр", "+79031112233"),
    ]
