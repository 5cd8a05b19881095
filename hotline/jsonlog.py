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


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, Mapping):
            for key, value in _masked(fields).items():
                line.setdefault(key, value)  # a field never overwrites ts, level or event
        if record.exc_info:
            # Stack traces belong in the log (never in a response): the operator of the server
            # needs them, and they carry code, not citizens' data.
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


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
        if _is_phone_key(key):
            out[key] = mask_phone(str(value)) if value is not None else None
        elif key in _HIDDEN_KEYS:
            out[key] = None if value is None else "***"  # nothing of a name or a tax number
        elif isinstance(value, Mapping):
            out[key] = _masked(value)
        else:
            out[key] = value
    return out


def _is_phone_key(key: object) -> bool:
    return isinstance(key, str) and (key == "phone" or key.endswith("_phone"))
