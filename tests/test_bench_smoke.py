"""`scripts/bench routing` and `scripts/bench api` still run end to end (tiny sizes; nothing
about their timings)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench"
LAST_LINE = re.compile(
    r"routing: \d+ decisions/s pure, \d+/s actor, p99 \d+\.\d us, "
    r"\d+\.\dx naive, \d+\.\dx sql-dispatch"
)
API_LAST_LINE = re.compile(r"api: \d+ creates/s, p99 \d+\.\d ms, \d+% of healthz \(\d+ req/s\)")


def load_bench() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("hotline_scripts_bench", str(BENCH))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_routing_benchmark_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    argv = ["routing", "--seed", "7", "--operators", "50", "--contacts", "200"]
    argv += ["--events", "300", "--naive-events", "100"]
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    rows = {line.split()[0]: line for line in lines if line.split()[:1]}
    for name in ("pure", "actor", "naive", "sql-dispatch"):
        assert name in rows
    assert rows["naive"].split()[1] == "100"
    assert rows["sql-dispatch"].split()[1] == "300"


@pytest.mark.slow
def test_api_benchmark_runs_a_server_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_bench().main(["api", "--quick", "--floor"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert API_LAST_LINE.fullmatch(lines[-1]), lines[-1]
    rows = {line.split()[0]: line for line in lines if line.split()[:1]}
    assert "healthz" in rows and "create" in rows and "floor" in rows


def test_bench_needs_a_benchmark_name() -> None:
    with pytest.raises(SystemExit):
        load_bench().main([])
