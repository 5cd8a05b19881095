"""The line's service levels: one pure definition of every KPI, used by the live figures, the
period reports and the capacity simulator alike.

- `rules`: what the figures are measured against (`[kpi]` in the config).
- `facts`: what the router's events say about waits, handling and operators' time (`KpiTracker`).
- `tally`: additive counters of facts (`Tally`), split into intervals and groups (`Buckets`),
  and the FIGURES they give (`figures`).

Nothing here reads a clock, the store or the network: time comes in with the events.
"""

from hotline.kpi.facts import (
    HandleEnded,
    KpiTracker,
    OpenContact,
    OpenOperator,
    OperatorTime,
    Outcome,
    WaitEnded,
)
from hotline.kpi.rules import BASES, KpiRules
from hotline.kpi.tally import Buckets, Tally, figures

__all__ = [
    "BASES",
    "Buckets",
    "HandleEnded",
    "KpiRules",
    "KpiTracker",
    "OpenContact",
    "OpenOperator",
    "OperatorTime",
    "Outcome",
    "Tally",
    "WaitEnded",
    "figures",
]
