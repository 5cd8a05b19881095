"""Prints the theme classifier's measured accuracy in the run's terminal summary, whatever the
output capture (`scripts/test` shows it): the accuracy test records its lines in the config's
stash, and this hook writes them at the end."""

from __future__ import annotations

import pytest

ACCURACY_LINES = pytest.StashKey[list[str]]()


def record_accuracy(config: pytest.Config, line: str) -> None:
    config.stash.setdefault(ACCURACY_LINES, []).append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(ACCURACY_LINES, [])
    if lines:
        terminalreporter.section("feedback themes: accuracy on the labelled comments")
        for line in lines:
            terminalreporter.write_line(line)
