"""Structured logs: one JSON object per line, personal data masked on the way out.

Every part of the process logs through stdlib `logging`; `log_event` attaches named fields to a
record, and `JsonLineFormatter` writes `{"ts", "level", "logger", "event", ...fields}`. The
formatter masks every phone field itself and hides names, INN and SNILS fields, so a caller
that forgets cannot leak them.
`configure_logging` is called once by the CLI before anything logs.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from hotline.domain.masking import mask_phone

_FIELDS = "hotline_fields"  # the LogRecord attribute that carries log_event's fields
# Fields that identify a person outright: never written, whoever passes them.
_HIDDEN_KEYS = frozenset({"inn", "snils", "full_name", "citizen_name"})


def log_event(
    logger: logging.Logger,
    event: str,
    /,
    level: int = logging.INFO,
    *,
    exc_info: BaseException | None = None,
    **fields: Any,
) -> None:
    """Log `event` (a dotted name such as `router.started`) with named fields."""
    logger.log(level, event, exc_info=exc_info, extra={_FIELDS: fields})


# One encoder for every line: `json.dumps` with any option builds a new encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonLineFormatter(logging.Formatter):
    # A request logs a line or two: the date and time up to the second are formatted once a
    # second, not once a line (the `datetime` round trip was a fifth of a line's cost).
    _second: int | None = None
    _prefix = ""

    def format(self, record: logging.LogRecord) -> str:
        # As `datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")` does
        # it: microseconds rounded half to even, then cut to milliseconds.
        frac, whole = math.modf(record.created)
        us = round(frac * 1e6)
        if us >= 1_000_000:
            whole += 1
            us -= 1_000_000
        second = int(whole)
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            self._second = second
        line: dict[str, Any] = {
            "ts": f"{self._prefix}{us // 1000:03d}+00:00",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if type(fields) is dict or isinstance(fields, Mapping):
            for key, value in _masked(fields).items():
                line.setdefault(key, value)  # a field never overwrites ts, level or event
        if record.exc_info:
            # Stack traces belong in the log (never in a response): the operator of the server
            # needs them, and they carry code, not citizens' data.
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line)


def configure_logging(level: str = "info", stream: IO[str] | None = None) -> None:
    """Route every logger (ours, hypercorn's, quart's) through one JSON-lines handler."""
    # What our lines never show is not gathered for every record either (the logging HOWTO's
    # "Optimization"): the caller's file and line (a walk up the stack), thread and process.
    # A request logs one or two lines, so this is about a third of the cost of each.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


def _masked(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        kind = _KEY_KINDS.get(key)
        if kind is None:
            kind = _kind_of(key)
        if kind is _PLAIN:
            # A plain value as it is; a mapping is masked in its turn (the ABC check, the
            # slow part of a line, only for what is not a plain scalar).
            if type(value) in _SCALARS or not isinstance(value, Mapping):
                out[key] = value
            else:
                out[key] = _masked(value)
        elif kind is _PHONE:
            out[key] = mask_phone(str(value)) if value is not None else None
        else:
            out[key] = None if value is None else "***"  # nothing of a name or a tax number
    return out


# What a field's key says of its value, worked out once per key (the keys are the code's own,
# a few dozen; those of a logged mapping too, so the table is bounded all the same).
_PLAIN, _PHONE, _HIDDEN = "plain", "phone", "hidden"
_KEY_KINDS: dict[object, str] = {}
_KEY_KINDS_MAX = 4096
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _kind_of(key: object) -> str:
    if _is_phone_key(key):
        kind = _PHONE
    elif key in _HIDDEN_KEYS:
        kind = _HIDDEN
    else:
        kind = _PLAIN
    if len(_KEY_KINDS) < _KEY_KINDS_MAX:
        _KEY_KINDS[key] = kind
    return kind


def _is_phone_key(key: object) -> bool:
    return isinstance(key, str) and (key == "phone" or key.endswith("_phone"))
