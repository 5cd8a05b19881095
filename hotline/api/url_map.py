"""The app's URL map: Quart's, matched without leaving a reference cycle behind per request.

Werkzeug's `StateMachineMatcher.match` (3.1) walks its state machine with a nested function that
calls itself, so every match leaves the function, its closure cells and a set in a cycle that
only the cycle collector frees: eight objects a request, and under load most of what the young
generation collects (it is what set the young collections going: one every ~2,500 requests
with hotline's threshold, each walking every young object and pausing the server for several
milliseconds). `AcyclicMatcher` is the same walk on a small object that holds what the closure
held, so it is freed when the match returns. It answers exactly as Werkzeug's matcher does
(`tests/api/test_url_map.py` compares them on the app's routes and on rules of every kind).

The walk below is Werkzeug's (BSD-3-Clause, Copyright 2007 Pallets); only `nonlocal` state
became attributes, and the test of a rule's method and kind, written twice there, one method.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from quart.routing import QuartMap
from werkzeug.routing.converters import ValidationError
from werkzeug.routing.exceptions import NoMatch, RequestAliasRedirect, RequestPath
from werkzeug.routing.matcher import SlashRequired, State, StateMachineMatcher
from werkzeug.routing.rules import Rule, RuleFactory


class _Walk:
    """One match's state (what Werkzeug's closure held)."""

    __slots__ = ("have_match_for", "method", "websocket", "websocket_mismatch")

    def __init__(self, method: str, websocket: bool) -> None:
        self.method = method
        self.websocket = websocket
        self.have_match_for: set[str] = set()
        self.websocket_mismatch = False

    def match(
        self, state: State, parts: list[str], values: list[str]
    ) -> tuple[Rule, list[str]] | None:
        method, websocket = self.method, self.websocket
        if parts == []:
            for rule in state.rules:
                if self._takes(rule):
                    return rule, values
            if "" in state.static:
                for rule in state.static[""].rules:
                    if websocket == rule.websocket and (
                        rule.methods is None or method in rule.methods
                    ):
                        if rule.strict_slashes:
                            raise SlashRequired()
                        return rule, values
            return None

        part = parts[0]
        if part in state.static:
            rv = self.match(state.static[part], parts[1:], values)
            if rv is not None:
                return rv
        for test_part, new_state in state.dynamic:
            target = part
            remaining = parts[1:]
            if test_part.final:
                target = "/".join(parts)
                remaining = []
            found = re.compile(test_part.content).match(target)
            if found is not None:
                if test_part.suffixed:
                    suffix = found.groups()[-1]
                    if suffix == "/":
                        remaining = [""]
                converter_groups = sorted(
                    (
                        item
                        for item in found.groupdict().items()
                        if item[0].startswith("__werkzeug_")
                    ),
                    key=lambda item: int(item[0][11:]),
                )
                groups = [item[1] for item in converter_groups]
                rv = self.match(new_state, remaining, values + groups)
                if rv is not None:
                    return rv

        if parts == [""]:
            for rule in state.rules:
                if not rule.strict_slashes and self._takes(rule):
                    return rule, values
        return None

    def _takes(self, rule: Rule) -> bool:
        """Whether `rule` takes this method and kind of request; if not, what it would take is
        noted for the `NoMatch` (405 rather than 404)."""
        if rule.methods is not None and self.method not in rule.methods:
            self.have_match_for.update(rule.methods)
            return False
        if rule.websocket != self.websocket:
            self.websocket_mismatch = True
            return False
        return True


class AcyclicMatcher(StateMachineMatcher):
    def match(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, Any]]:
        walk = _Walk(method, websocket)
        try:
            rv = walk.match(self._root, [domain, *path.split("/")], [])
        except SlashRequired:
            raise RequestPath(f"{path}/") from None

        if self.merge_slashes and rv is None:
            path = re.sub("/{2,}", "/", path)
            try:
                rv = walk.match(self._root, [domain, *path.split("/")], [])
            except SlashRequired:
                raise RequestPath(f"{path}/") from None
            if rv is None or rv[0].merge_slashes is False:
                raise NoMatch(walk.have_match_for, walk.websocket_mismatch)
            raise RequestPath(f"{path}")
        elif rv is not None:
            rule, values = rv
            result = {}
            for name, value in zip(rule._converters.keys(), values, strict=False):
                try:
                    value = rule._converters[name].to_python(value)
                except ValidationError as e:
                    raise NoMatch(walk.have_match_for, walk.websocket_mismatch) from e
                result[str(name)] = value
            if rule.defaults:
                result.update(rule.defaults)
            if rule.alias and rule.map.redirect_defaults:
                raise RequestAliasRedirect(result, rule.endpoint)
            return rule, result

        raise NoMatch(walk.have_match_for, walk.websocket_mismatch)


class AcyclicMap(QuartMap):
    """Quart's URL map with `AcyclicMatcher`, in place before any rule is added."""

    def __init__(
        self, rules: Iterable[RuleFactory] | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(None, *args, **kwargs)
        self._matcher = AcyclicMatcher(self._matcher.merge_slashes)
        for factory in rules or ():
            self.add(factory)
