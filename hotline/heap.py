"""The cycle collector's settings while serving, in one place: `hotline serve` applies them once
start-up is done, and so do the benchmarks' bare floor app and the routing bench, so that each
is measured under the settings hotline runs with.

CPython's default young generation (700 objects) fills every few requests under load, and each
young collection carries the requests then in flight into the older generations, which makes a
full collection, a walk of every waiting contact, come about once a second: 15-30 ms with
10,000-30,000 waiting, the requests in flight all held that long (about 12 ms of a create's
p99), and 4 % of its CPU in the collector. With 20,000, young collections come only as the heap
grows or cycles are left behind (`hotline.api.url_map`): 0.2 s of collector per 18,000 creates
instead of 1.1 s. What start-up built is frozen, so full collections no longer walk it: a bare
Quart-Trio app left as CPython starts it spends 30-50 ms walking its own imported modules about
once a second under load.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 10, 10)


def settle() -> None:
    """Once start-up is done: collect, freeze what survived (it lives as long as the process)
    and set the thresholds for serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
