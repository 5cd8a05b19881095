"""Charts of a simulation (`hotline simulate --plot`): PNG files a planner can read.

One chart per question, and `overview.png` with all of them stacked on one time axis:
- service_level.png: the service level per interval at each threshold that has a goal
  (`[kpi.goals] sl_<T>`), with the goal;
- waiting.png: contacts waiting (mean per interval);
- asa.png: the average speed of answer, with its goal;
- occupancy.png: the share of signed-in time busy or in wrap-up;
- staffing.png: operators scheduled at work, against those Erlang requires (each stream alone,
  when the scenario's streams are known) and those busy (the workload, in erlangs).

matplotlib is an optional extra (`pip install 'hotline[plot]'`); the Agg backend draws
without a display.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

CHARTS = ("service_level", "waiting", "asa", "occupancy", "staffing")


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def write_charts(answer: Mapping[str, Any], folder: Path) -> list[Path]:
    """Draw the charts of `answer` (what `hotline.sim.report.report` returns) into `folder`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'hotline[plot]'") from None
    rows = answer["rows"]
    if not rows:
        return []
    # Naive local times: matplotlib would label aware ones in UTC.
    times = [_naive(r["start"]) for r in rows]
    times.append(_naive(rows[-1]["end"]))
    draw: dict[str, Callable[[Any], None]] = {
        "service_level": lambda ax: _service_level(ax, times, rows, answer["goals"]),
        "waiting": lambda ax: _series(ax, times, rows, "waiting", "contacts waiting"),
        "asa": lambda ax: _series(
            ax, times, rows, "asa_s", "ASA (s)", goal=answer["goals"].get("asa_s")
        ),
        "occupancy": lambda ax: _series(ax, times, rows, "occupancy", "occupancy", share=True),
        "staffing": lambda ax: _staffing(ax, times, rows),
    }
    written = []
    for name in CHARTS:
        fig, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
        draw[name](ax)
        _time_axis(ax)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    fig, axes = plt.subplots(
        len(CHARTS), 1, figsize=(10, 2.4 * len(CHARTS)), sharex=True, layout="constrained"
    )
    for ax, name in zip(axes, CHARTS, strict=True):
        draw[name](ax)
    _time_axis(axes[-1])
    run = answer["run"]
    fig.suptitle(f"hotline simulate: {run['start'][:16]} to {run['end'][:16]}")
    path = folder / "overview.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written


def _naive(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=None)


def _time_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _values(rows: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    """One value per row, repeated at the end for a step drawn to the last interval's end;
    None (nothing to divide) is a gap."""
    values = [float("nan") if r[key] is None else float(r[key]) for r in rows]
    return [*values, values[-1]]


def _series(
    ax: Any,
    times: list[dt.datetime],
    rows: Sequence[Mapping[str, Any]],
    key: str,
    label: str,
    *,
    goal: float | None = None,
    share: bool = False,
) -> None:
    ax.step(times, _values(rows, key), where="post", label=label)
    if goal is not None:
        ax.axhline(goal, color="tab:red", linestyle="--", linewidth=1, label="goal")
    if share:
        ax.set_ylim(0, 1.05)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")


def _service_level(
    ax: Any,
    times: list[dt.datetime],
    rows: Sequence[Mapping[str, Any]],
    goals: Mapping[str, float],
) -> None:
    thresholds = [t for t in rows[0]["service_level"] if f"sl_{t}" in goals]
    for t in thresholds or list(rows[0]["service_level"])[:1]:
        values = [r["service_level"][t] for r in rows]
        series = [float("nan") if v is None else v for v in values]
        (line,) = ax.step(times, [*series, series[-1]], where="post", label=f"within {t} s")
        goal = goals.get(f"sl_{t}")
        if goal is not None:
            ax.axhline(goal, color=line.get_color(), linestyle="--", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("service level")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")


def _staffing(ax: Any, times: list[dt.datetime], rows: Sequence[Mapping[str, Any]]) -> None:
    ax.step(times, _values(rows, "staffed"), where="post", label="scheduled at work")
    if rows[0].get("required") is not None:
        ax.step(
            times,
            _values(rows, "required"),
            where="post",
            linestyle="--",
            label="required (Erlang, each stream alone)",
        )
    ax.step(times, _values(rows, "busy"), where="post", label="busy (workload, erlangs)")
    ax.set_ylabel("operators")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
