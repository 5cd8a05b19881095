"""`hotline import-kb FILE`: articles from JSON lines or a folder of Markdown with front matter,
as a deployer runs it; and the starter base a fresh install gets once."""

# ruff: noqa: RUF001

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from hotline.cli import main
from hotline.config import load_settings
from hotline.kb.files import ImportedArticle
from hotline.services.kb import import_articles, install_starter, starter_articles
from hotline.store import open_store
from hotline.store.kb import Editor

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"
LINE = {
    "slug": "passport-lost",
    "title": "Потерян паспорт",
    "body": "Заявите об утере паспорта в МВД.",
    "topics": ["documents"],
    "tags": ["утеря паспорта"],
    "status": "published",
}


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def write_lines(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_json_lines_import_and_a_second_import_makes_a_new_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hotline.db"
    file = write_lines(tmp_path / "kb.jsonl", LINE)
    assert main(["import-kb", "--db", str(db), str(file)]) == 0
    assert "1 created, 0 updated" in capsys.readouterr().out
    write_lines(file, {**LINE, "body": "Заявите об утере паспорта в МВД или МФЦ."})
    assert main(["import-kb", "--db", str(db), str(file)]) == 0
    assert main(["import-kb", "--db", str(db), str(file)]) == 0
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out.splitlines()[-1]
    assert rows(db, "SELECT version, changed FROM kb_versions ORDER BY version") == [
        (1, '["created"]'),
        (2, '["body"]'),
    ]
    # Published and indexed: its stems are searchable.
    assert rows(db, "SELECT count(*) FROM kb_index WHERE kb_index MATCH 'утер*'") == [(1,)]


def test_a_markdown_folder_imports_with_its_front_matter(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "snils.md").write_text(
        "---\ntitle: Как узнать СНИЛС\ntopics: [documents, personal_data]\n"
        "tags: [номер снилс]\nstatus: draft\nreview_by: 2027-01-31\n---\nСНИЛС указан…\n",
        "utf-8",
    )
    db = tmp_path / "hotline.db"
    assert main(["import-kb", "--db", str(db), str(folder)]) == 0
    assert rows(db, "SELECT slug, status, topics, review_by FROM kb_articles") == [
        ("snils", "draft", '["documents", "personal_data"]', "2027-01-31")
    ]
    assert rows(db, "SELECT count(*) FROM kb_index") == [(0,)]  # a draft is not searchable


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ({**LINE, "topics": ["nope"]}, "unknown topic"),
        ({**LINE, "status": "gone"}, "'gone' is not a valid Status"),
        ({**LINE, "colour": "red"}, "unknown key 'colour'"),
        ({**LINE, "title": ""}, "title"),
        ({**LINE, "review_by": "31.01.2027"}, "review_by"),
    ],
)
def test_one_bad_record_imports_nothing_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: dict[str, object], said: str
) -> None:
    db = tmp_path / "hotline.db"
    file = write_lines(tmp_path / "kb.jsonl", {**LINE, "slug": "fine"}, record)
    assert main(["import-kb", "--db", str(db), str(file)]) == 2
    err = capsys.readouterr().err
    assert said in err and "nothing imported" in err
    # A file that does not read opens no database; one that breaks a rule writes nothing.
    assert not db.exists() or rows(db, "SELECT count(*) FROM kb_articles WHERE slug = 'fine'") == [
        (0,)
    ]


async def test_the_starter_base_installs_once_and_keeps_a_deployers_article(
    tmp_path: Path,
) -> None:
    settings = load_settings(SHIPPED)
    starter = starter_articles()
    assert len(starter) >= 20
    [hours] = [a for a in starter if a.slug == "working-hours"]
    mine = ImportedArticle("working-hours", hours.draft.with_changes(title="Наши часы"), None)
    async with open_store(tmp_path / "hotline.db") as store:
        # The deployer imported their own article under a starter slug before the first start.
        await import_articles(store, settings, [mine], editor=Editor("t", "t"), at=1.0)
        assert await install_starter(store, settings) == len(starter) - 1
        assert await install_starter(store, settings) == 0
        titles = await store.read(
            lambda tx: tx.fetchall("SELECT title FROM kb_articles WHERE slug = 'working-hours'")
        )
        assert [r[0] for r in titles] == ["Наши часы"]
