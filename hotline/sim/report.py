"""What a simulation measured, as `hotline simulate` answers it: FIGURES per interval and in
total (`hotline.kpi.figures`, the same as `GET /v1/stats`), as JSON and as a table.

Besides FIGURES each row and the total carry three means over their time: `staffed`
(operators scheduled at work: on shift, not on a planned break), `busy` (operators busy or in
wrap-up: the workload handled, in erlangs) and `waiting` (contacts waiting); and `required`,
the operators Erlang says the hour needs, each arrival stream alone (`hotline.sim.required`;
None when the scenario's streams or a service-level goal are missing, as in a replay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kpi import Buckets, KpiRules, Tally, figures
from hotline.sim.engine import SimResult


def interval_tallies(buckets: Buckets) -> dict[float, Tally]:
    """The whole line's tally of each interval (`Buckets.by_interval`)."""
    return buckets.by_interval()


def report(result: SimResult, **run: Any) -> dict[str, Any]:
    """{"total": FIGURES, "rows": [{"start", "end", **FIGURES}], "queues": [...], "goals",
    "run"}; `run`: what to say about the run besides its span (seed, config)."""
    rules = result.rules
    tallies = interval_tallies(result.buckets)
    rows = []
    for start, end in _intervals(result):
        key = rules.interval_of(start)
        tally = tallies.get(key) or Tally(len(rules.thresholds))
        waiting, staffed = result.waiting.get(key, 0.0), result.staffed.get(key, 0.0)
        rows.append(
            {
                "start": _local(start, rules.tz),
                "end": _local(end, rules.tz),
                **_with_means(tally, rules, end - start, waiting, staffed),
                "required": _required(result, start),
            }
        )
    queues: dict[tuple[str, str, str], Tally] = {}
    for (_, topic, priority, channel), t in result.buckets.queues.items():
        queues.setdefault((topic, priority, channel), Tally(len(rules.thresholds))).merge(t)
    total = _with_means(
        result.buckets.total(),
        rules,
        result.end - result.start,
        sum(result.waiting.values()),
        sum(result.staffed.values()),
    )
    total["required"] = _mean_required(result, rows)
    return {
        "total": total,
        "rows": rows,
        "queues": [
            {"topic": topic, "priority": priority, "channel": channel, **figures(t, rules)}
            for (topic, priority, channel), t in sorted(queues.items())
        ],
        "goals": dict(rules.goals),
        "run": {
            "start": _local(result.start, rules.tz),
            "end": _local(result.end, rules.tz),
            "contacts_simulated": result.contacts,
            "router_events": result.router_events,
            **run,
        },
    }


def _intervals(result: SimResult) -> Iterator[tuple[float, float]]:
    step = result.rules.interval_s
    start = result.start
    while start < result.end:
        end = min(result.rules.interval_of(start) + step, result.end)
        yield start, end
        start = end


def _with_means(
    tally: Tally, rules: KpiRules, length: float, waiting: float, staffed: float
) -> dict[str, Any]:
    """FIGURES and the means over `length` seconds (`waiting`, `staffed`: their integrals)."""
    return {
        **figures(tally, rules),
        "staffed": staffed / length,
        "busy": tally.busy_s / length,
        "waiting": waiting / length,
    }


def _required(result: SimResult, start: float) -> float | None:
    hourly = result.required_hourly
    if hourly is None:
        return None
    return hourly[int((start + result.utc_offset_s) // 3600) % len(hourly)]


def _mean_required(result: SimResult, rows: list[dict[str, Any]]) -> float | None:
    if result.required_hourly is None:
        return None
    spans = [(_required(result, s), e - s) for s, e in _intervals(result)]
    return sum(r * length for r, length in spans if r is not None) / (result.end - result.start)


def _local(at: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


# -- the table ----------------------------------------------------------------------------------


def table(answer: Mapping[str, Any], rules: KpiRules) -> str:
    """The rows and the total as aligned text, one line per interval; then the total of each
    queue (topic, class, channel), where a queue the whole line's figures hide shows."""
    sl_names = [f"SL{t}" for t in rules.thresholds]
    head = ["interval", "offered", "answd", "aband", *sl_names]
    head += ["ASA", "maxwait", "aband%", "AHT", "occ", "staffed", "required", "busy", "waiting"]
    lines = [head]
    for row in answer["rows"]:
        lines.append([row["start"][5:16].replace("T", " "), *_cells(row, rules)])
    lines.append(["total", *_cells(answer["total"], rules)])
    text = _aligned(lines)
    text.insert(len(text) - 1, "-" * len(text[0]))
    total = answer["total"]
    deadlines = ", ".join(f"{name} {_pct(share)}" for name, share in total["deadline_met"].items())
    text.append(f"deadline met: {deadlines}; expired {total['expired']}")
    queues = [["queue", "offered", "answd", "aband", *sl_names]]
    queues[0] += ["ASA", "maxwait", "aband%", "AHT", "deadline met"]
    for q in answer.get("queues", ()):
        name = f"{q['topic']}/{q['priority']}/{q['channel']}"
        cells = _cells({**q, "staffed": None, "busy": None, "waiting": None}, rules)[:-5]
        queues.append([name, *cells, _pct(q["deadline_met"].get(q["priority"]))])
    if len(queues) > 1:
        text += ["", *_aligned(queues)]
    return "\n".join(text)


def _aligned(lines: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the first to the left, the others to the right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]


def _cells(f: Mapping[str, Any], rules: KpiRules) -> list[str]:
    return [
        str(f["offered"]),
        str(f["answered"]),
        str(f["abandoned"]),
        *(_pct(f["service_level"][str(t)]) for t in rules.thresholds),
        _num(f["asa_s"]),
        _num(f["max_wait_s"]),
        _pct(f["abandon_rate"]),
        _num(f["aht_s"], 0),
        _pct(f["occupancy"]),
        _num(f["staffed"]),
        _num(f.get("required")),
        _num(f["busy"]),
        _num(f["waiting"]),
    ]


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
