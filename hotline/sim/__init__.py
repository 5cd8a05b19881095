"""Capacity planning: the textbook queueing formulas (`erlang`), staffing by them (`staffing`)
and the simulator that runs the real router on virtual time."""
