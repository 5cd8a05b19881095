"""`scripts/bench soak` still runs end to end: a real server, a few seconds of the mixed load,
samples of its memory, descriptors and threads, and the report's last line (nothing about the
figures: a few seconds say nothing of a slope)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.processes import ROOT, run_script

BENCH = ROOT / "scripts" / "bench"
GIVE_UP_AFTER_S = 120
LAST_LINE = re.compile(
    r"soak: RSS slope [+-]\d+\.\d\d MB/h after [\d.]+ min warm-up \([\d.]+ -> [\d.]+ MB\),"
    r" fds \d+-\d+, threads \d+-\d+, \d+ requests at [\d.]+/s, 0 errors"
)


@pytest.mark.slow
def test_the_soak_drives_a_server_and_reports_its_memory_slope() -> None:
    size = ["--minutes", "0.2", "--sample-s", "1", "--rate", "20", "--workers", "4"]
    result = run_script(BENCH, "soak", *size, "--operators", "6", timeout=GIVE_UP_AFTER_S)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert LAST_LINE.fullmatch(result.stdout.splitlines()[-1]), report
    assert "statuses {200: " in report and "201: " in report, report
