"""How the API reads a JSON request body: the one parser behind every `validate_request` model.

Quart's own `get_json` answers a body that is not UTF-8, or nested deeper than the parser can
recurse, with a 500, and malformed JSON with Werkzeug's "The browser (or proxy) sent a request
that this server could not understand". The request class of the app reads bodies here instead:

- no body at all reads as `{}`, so the action endpoints (accept, reject, abandon, wrap-up end)
  take a bare POST without a Content-Type, and a model with required fields names the first one
  missing (422) rather than a media type;
- a body that is present must say it is JSON (`application/json` or `…+json`): else 415;
- it must be UTF-8 (RFC 8259 §8.1), well formed, of standard JSON values only (no `NaN` or
  `Infinity`) and nested no deeper than the parser recurses: else 400 `invalid_json`, whose
  message says where and which carries `line`, `column` and `char` when the parser knows them.

`uploads.UploadAwareRequest` builds on this class; multipart routes never call `get_json`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, NoReturn

from quart_trio.wrappers.request import TrioBody, TrioRequest

from hotline.domain.errors import HotlineError, UnsupportedMediaType


@cache
def _blueprint_path(name: str) -> list[str]:
    """`a.b.c` -> `["a.b.c", "a.b", "a"]`: the blueprint and its parents, as Quart lists them."""
    path = [name]
    while "." in path[-1]:
        path.append(path[-1].rpartition(".")[0])
    return path


class InvalidJson(HotlineError):
    """A body declared JSON that cannot be read as JSON (400)."""

    code = "invalid_json"


class WholeBody(TrioBody):
    """Quart-Trio's request body, which can also say it is all here."""

    def whole(self) -> bytes | None:
        """The body if it has all arrived and is to be read (not too large), else None: then it
        is awaited as Quart awaits it."""
        if self._must_raise is None and self._complete.is_set():
            return bytes(self._data)
        return None


class JsonBodyRequest(TrioRequest):
    body_class = WholeBody

    @property
    def blueprints(self) -> list[str]:
        """Quart's, without the import its own runs on every call (Quart asks it three times a
        request: 2 % of a create's CPU under load, py-spy)."""
        blueprint = self.blueprint
        return [] if blueprint is None else _blueprint_path(blueprint)

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        # A body all here is read at once: Quart-Trio awaits it under a timeout, a checkpoint
        # and a deadline: 0.08-0.18 ms of a create's CPU in two A/Bs.
        raw = self.body.whole() if isinstance(self.body, WholeBody) else None
        if raw is None:
            raw = await self.get_data(cache, False, False)
        elif not cache:
            self.body.clear()
        try:
            result = parse_json_body(raw, declared_json=force or self.is_json)
        except HotlineError:
            if not silent:
                raise
            result = None
        if cache:
            self._cached_json[silent] = result
        return result


def parse_json_body(raw: bytes, *, declared_json: bool) -> Any:
    """The value of a request body; `{}` for no body at all."""
    if not raw:
        return {}
    if not declared_json:
        raise UnsupportedMediaType("send a JSON body (application/json)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidJson(
            f"the body is not UTF-8: byte {e.start} cannot start or continue a character",
            extra={"char": e.start},
        ) from None
    try:
        return _decode(text)
    except json.JSONDecodeError as e:
        raise InvalidJson(
            f"the body is not valid JSON: {e}",
            extra={"line": e.lineno, "column": e.colno, "char": e.pos},
        ) from None
    except RecursionError:
        # The C scanner counts its depth against the interpreter's limit and unwinds cleanly.
        raise InvalidJson("the body is not valid JSON: it is nested too deeply") from None
    except _NotJsonNumber as e:
        raise InvalidJson(f"the body is not valid JSON: {e}") from None
    except ValueError:  # int() refuses more than 4300 digits (CVE-2020-10735)
        raise InvalidJson("the body is not valid JSON: a number has too many digits") from None


class _NotJsonNumber(ValueError):
    pass


def _refuse_constant(name: str) -> NoReturn:
    raise _NotJsonNumber(f"{name} is not a JSON number")


# One decoder for every body: `json.loads` with any option builds a new decoder per call.
_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode
