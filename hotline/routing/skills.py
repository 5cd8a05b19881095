"""Who has which skills, and which skill sets contacts need: the routing state's skill index.

A *route* is a set of skills one contact needs (its topic, perhaps plus `callback`; after
overflow also fallback skills). Operators are indexed by skill; each operator keeps the routes it
covers with its score for each (`OperatorRecord.route_keys`), which the matcher's queues are
built from. Owned by one `RoutingState`; pure like it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from hotline.routing.matchers import Matcher
from hotline.routing.records import OperatorRecord, RouteKey


class SkillIndex:
    def __init__(self, ops: dict[str, OperatorRecord], matcher: Matcher) -> None:
        self._ops = ops
        self._matcher = matcher
        self._known_routes: set[RouteKey] = set()
        self._routes_by_skill: defaultdict[str, set[RouteKey]] = defaultdict(set)
        self._ops_by_skill: defaultdict[str, set[str]] = defaultdict(set)

    def holders(self, skill: str) -> Iterator[OperatorRecord]:
        """Every operator with `skill`."""
        ops = self._ops
        for op_id in self._ops_by_skill.get(skill, ()):
            yield ops[op_id]

    def covering(self, route: RouteKey) -> Iterator[OperatorRecord]:
        """Every operator with all of `route`'s skills: the holders of its rarest skill only."""
        by_skill = self._ops_by_skill
        rarest = min(route, key=lambda s: len(by_skill.get(s, ())))
        for op in self.holders(rarest):
            if route <= op.skills.keys():
                yield op

    def register_route(self, route: RouteKey) -> None:
        """A new set of skills that contacts may need: tell every operator that covers it."""
        if route in self._known_routes:
            return
        self._known_routes.add(route)
        for skill in route:
            self._routes_by_skill[skill].add(route)
        matcher = self._matcher
        for op in self.covering(route):
            op.route_keys.append((route, op.route_score(route)))
            matcher.profile_changed(op)
            if op.routable:
                matcher.unpark_operator(op)
                matcher.park_operator(op)

    def set_skills(self, op: OperatorRecord, skills: dict[str, int]) -> None:
        """Give `op` these skills (none: it is leaving) and the known routes they cover."""
        for skill in op.skills:
            self._ops_by_skill[skill].discard(op.id)
        op.skills = skills
        routes: set[RouteKey] = set()
        for skill in skills:
            self._ops_by_skill[skill].add(op.id)
            routes.update(r for r in self._routes_by_skill.get(skill, ()) if r <= skills.keys())
        op.route_keys = [(r, op.route_score(r)) for r in routes]
        self._matcher.profile_changed(op)
