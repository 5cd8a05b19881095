"""`hotline simulate`: the table, `--json`'s keys, `--out` and `--plot`'s files, and the errors
a planner meets, each one line naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.cli import main
from tests.figures import FIGURES as FIGURE_ORDER
from tests.sim.conftest import CONFIG, MINIMAL, ROOT

FIGURES = frozenset(FIGURE_ORDER)


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    path = tmp_path / "minimal.toml"
    path.write_text(MINIMAL.replace("hours = 200", "hours = 1"))
    return path


def test_json_answers_the_total_and_a_row_per_interval(
    minimal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(minimal), "--json", "--config", str(CONFIG)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # no progress bar when stderr is not a terminal
    answer = json.loads(out)
    assert set(answer) == {"total", "rows"}
    assert set(answer["total"]) >= FIGURES
    assert set(answer["total"]["service_level"]) == {"20", "25", "30"}
    assert len(answer["rows"]) == 4  # an hour of 15-minute intervals
    first = answer["rows"][0]
    assert {"start", "end"} | FIGURES <= set(first)
    assert (first["start"], first["end"]) == (
        "2026-03-02T00:00:00+03:00",
        "2026-03-02T00:15:00+03:00",
    )
    assert sum(r["offered"] for r in answer["rows"]) == answer["total"]["offered"] > 0


def test_the_table_has_a_line_per_interval_and_the_total(
    minimal: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the default config: config/hotline.toml
    assert main(["simulate", str(minimal), "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["interval", "offered", "answd", "aband"]
    assert [line[:11] for line in lines[1:5]] == [
        "03-02 00:00",
        "03-02 00:15",
        "03-02 00:30",
        "03-02 00:45",
    ]
    total = lines.index("") - 2
    assert lines[total].startswith("total")
    assert lines[total + 1].startswith("deadline met: urgent -, normal")
    # Then each queue's total: here the one queue of the minimal scenario.
    assert lines[total + 3].split()[:2] == ["queue", "offered"]
    assert lines[total + 4].split()[0] == "documents/normal/voice"
    assert lines[total + 4].split()[1] == lines[total].split()[1]


def test_out_writes_the_answer_and_plot_the_charts(
    minimal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["simulate", str(minimal), "--days", "0.5", "--out", str(out), "--plot"]
    assert main([*argv, "--config", str(CONFIG)]) == 0
    capsys.readouterr()
    answer = json.loads((out / "simulation.json").read_text())
    assert len(answer["rows"]) == 48  # --days 0.5 replaced the scenario's hour
    assert answer["run"]["seed"] == 1
    assert answer["goals"]["sl_20"] == 0.85
    charts = ["service_level", "waiting", "asa", "occupancy", "staffing", "overview"]
    for name in charts:
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_plot_needs_an_output_folder(minimal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(minimal), "--plot"]) == 2
    assert "--plot needs --out" in capsys.readouterr().err


def test_a_bad_scenario_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("mean_s = 240", "mean_s = -1"))
    assert main(["simulate", str(bad), "--config", str(CONFIG)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hotline: scenario error: handle_time.documents.mean_s: ")


def test_a_bad_config_is_a_config_error(
    minimal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(minimal), "--config", str(tmp_path / "none.toml")]) == 2
    assert "hotline: config error: " in capsys.readouterr().err
