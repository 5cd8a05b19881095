"""`hotline.api.url_map`: the app's URL matcher answers as Werkzeug's does, and leaves no garbage.

Werkzeug's matcher is the reference: a map of the same rules matched by it must give the same
rule and values, or raise the same exception with the same content, for paths made from the
app's own routes (filled in, with a slash more or less, doubled or a segment more) and any
method."""

from __future__ import annotations

import gc
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart
from quart.routing import QuartMap
from werkzeug.routing import Map, Rule
from werkzeug.routing.exceptions import NoMatch, RequestAliasRedirect, RequestPath

from hotline.api.url_map import AcyclicMap, AcyclicMatcher

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW"]
SEGMENT = st.text(alphabet="abz0159+-_.~%é ", min_size=0, max_size=12)
PLACEHOLDER = re.compile(r"<[^>]+>")


def twin_maps(rules: list[Rule], merge_slashes: bool) -> tuple[Map, Map]:
    """The same rules in an `AcyclicMap` and in Werkzeug's own map."""

    def copies() -> list[Rule]:
        return [
            Rule(
                r.rule,
                methods=r.methods,
                endpoint=r.endpoint,
                strict_slashes=r.strict_slashes,
                merge_slashes=r.merge_slashes,
                websocket=r.websocket,
                defaults=r.defaults,
                alias=r.alias,
            )
            for r in rules
        ]

    ours = AcyclicMap(copies(), merge_slashes=merge_slashes)
    theirs = QuartMap(copies(), merge_slashes=merge_slashes)
    assert isinstance(ours._matcher, AcyclicMatcher)
    assert type(theirs._matcher) is not AcyclicMatcher
    ours.update()
    theirs.update()
    return ours, theirs


# Rules of every kind the walk treats apart (the app has few of them): trailing slashes strict
# and not, converters that take the rest of the path or part of a segment, defaults, an alias,
# a websocket.
KINDS = [
    Rule("/a/", endpoint="a"),
    Rule("/b/", endpoint="b", strict_slashes=False),
    Rule("/c/<path:rest>", endpoint="c"),
    Rule("/c/<path:rest>/edit", endpoint="c_edit", methods=["POST"]),
    Rule("/j/<path:rest>/", endpoint="j"),
    Rule("/d/<int:n>", endpoint="d"),
    Rule("/d/<int:n>/", endpoint="d_slash", methods=["PUT"]),
    Rule("/e/<x>-<y>", endpoint="e"),
    Rule("/f/", endpoint="f", defaults={"page": 1}),
    Rule("/f/page/<int:page>", endpoint="f"),
    Rule("/g/<x>", endpoint="g_alias", alias=True),
    Rule("/g/<x>", endpoint="g", methods=["DELETE"]),
    Rule("/ws", endpoint="ws", websocket=True),
    Rule("/h/<uuid:id>", endpoint="h"),
    Rule("/i/<float:v>/<any(x, y):which>", endpoint="i"),
]


def outcome(url_map: Map, path: str, method: str, websocket: bool) -> Any:
    try:
        rule, values = url_map._matcher.match("", path, method, websocket)
    except NoMatch as e:
        return ("NoMatch", sorted(e.have_match_for), e.websocket_mismatch)
    except RequestPath as e:
        return ("RequestPath", e.path_info)
    except RequestAliasRedirect as e:
        return ("RequestAliasRedirect", e.matched_values, e.endpoint)
    return (rule.rule, rule.endpoint, sorted(rule.methods or ()), values)


@st.composite
def paths(draw: st.DrawFn, templates: list[str]) -> str:
    template = draw(st.sampled_from(templates))
    path = PLACEHOLDER.sub(lambda _: draw(SEGMENT.filter(lambda s: "/" not in s)), template)
    change = draw(st.sampled_from(["as is", "slash", "no slash", "double", "more", "random"]))
    if change == "slash":
        path += "/"
    elif change == "no slash":
        path = path.rstrip("/")
    elif change == "double":
        path = path.replace("/", "//", 1)
    elif change == "more":
        path += "/" + draw(SEGMENT)
    elif change == "random":
        path = "/" + "/".join(draw(st.lists(SEGMENT, max_size=5)))
    return path


@pytest.mark.parametrize("merge_slashes", [False, True], ids=["kept", "merged"])
@pytest.mark.parametrize("routes", ["the app's", "every kind"])
async def test_the_matcher_answers_as_werkzeugs(
    app: Quart, routes: str, merge_slashes: bool
) -> None:
    rules = list(app.url_map.iter_rules()) if routes == "the app's" else KINDS
    ours, theirs = twin_maps(rules, merge_slashes)
    templates = sorted({r.rule for r in rules})

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(paths(templates), st.sampled_from(METHODS), st.booleans())
    def same(path: str, method: str, websocket: bool) -> None:
        assert outcome(ours, path, method, websocket) == outcome(theirs, path, method, websocket)

    same()
    # Every route without a placeholder, as declared, with each of its methods: the same answer.
    for rule in rules:
        if PLACEHOLDER.search(rule.rule) is None:
            for method in sorted(rule.methods or ()):
                answer = outcome(ours, rule.rule, method, rule.websocket)
                assert answer == outcome(theirs, rule.rule, method, rule.websocket)


async def test_the_apps_map_is_the_acyclic_one(app: Quart) -> None:
    assert isinstance(app.url_map, AcyclicMap)
    assert isinstance(app.url_map._matcher, AcyclicMatcher)
    assert app.url_map.merge_slashes is False  # `//v1//queues` is a 404 (test_bad_input)


async def test_a_match_leaves_nothing_for_the_cycle_collector(app: Quart) -> None:
    ours, theirs = twin_maps(list(app.url_map.iter_rules()), merge_slashes=False)

    def garbage_of(url_map: Map) -> int:
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for path in ["/v1/contacts", "/v1/queues", "/v1/contacts/c-1/accept", "/nope"]:
                for method in ["GET", "POST"]:
                    outcome(url_map, path, method, False)
            gc.collect()
            return len(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()

    assert garbage_of(theirs) > 0  # Werkzeug's own matcher leaves its cycles: the test can fail
    assert garbage_of(ours) == 0
