"""Capacity planning: the textbook queueing formulas, staffing by them, and the line simulated
on virtual time.

- `erlang`, `staffing`: Erlang C and Erlang A, and the fewest agents for a target
  (`hotline staff`).
- `scenario`: the scenario TOML (arrivals, handle times, patience, operators and shifts).
- `engine`: a discrete-event loop that drives the production `RoutingState` on virtual time
  and measures it with the KPI core (`hotline.kpi`), so its figures are the live line's.
- `report`, `plot`, `command`: what `hotline simulate` prints, draws and writes.
"""
