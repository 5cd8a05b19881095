"""A server killed with SIGKILL in the middle of a stream of creates keeps every contact it had
acknowledged, in order, with its deadlines, and honours their idempotency keys after a restart.

Runs `scripts/crash_api.py` (which starts and kills real `hotline serve` processes) at a small
size; the script itself says what it checks.
"""

from __future__ import annotations

import pytest

from tests.e2e.processes import ROOT, run_script

SCRIPT = ROOT / "scripts" / "crash_api.py"
GIVE_UP_AFTER_S = 180


@pytest.mark.slow
def test_acknowledged_contacts_survive_two_kills_mid_stream() -> None:
    size = ["--contacts", "150", "--concurrency", "12", "--kills", "2", "--seed", "3"]
    result = run_script(
        SCRIPT, *size, "--timeout", str(GIVE_UP_AFTER_S - 30), timeout=GIVE_UP_AFTER_S
    )

    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert result.stdout.splitlines()[-1].startswith("crash_api: ok: 2 kills"), report
