"""A simulation scenario: the TOML file `hotline simulate` reads, as frozen pydantic models.

What the line is asked (arrivals per topic, channel and language, by hour of the day), how long
contacts take and how long citizens wait before they give up, and who answers (groups of
operators with skills, languages, capacity and shifts). The routing policy itself is not here:
it comes from a hotline config file, the one the live line runs. `config/scenario.example.toml`
documents every key. Errors name the key's dotted path, as the config's do (`ScenarioError`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator

from hotline.config import ConfigError, _At, _problem, _Section
from hotline.kpi.rules import Basis

ChannelName = Literal["voice", "chat", "callback", "form"]
HOURS = 24
_CLOCK = re.compile(r"([01]\d|2[0-4]):([0-5]\d)")
DEFAULT_START = dt.date(2026, 3, 2)  # a Monday; the figures do not depend on it

Rates = Annotated[tuple[float, ...], Field(strict=False)]
Names = Annotated[tuple[str, ...], Field(strict=False)]


class ScenarioError(ConfigError):
    """The scenario cannot be run; `problems` as in `ConfigError`."""


class Distribution(_Section):
    """A random duration: `exp` (mean), `lognormal` (mean and sd) or `fixed` (always mean)."""

    dist: Literal["exp", "lognormal", "fixed"]
    mean_s: float = Field(gt=0)
    sd_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _sd_for_lognormal_only(self) -> Self:
        if self.dist == "lognormal" and self.sd_s is None:
            raise _At(("sd_s",), "a lognormal needs sd_s")
        if self.dist != "lognormal" and self.sd_s is not None:
            raise _At(("sd_s",), f"only a lognormal has sd_s, not {self.dist!r}")
        return self


class Arrival(_Section):
    """A stream of contacts: Poisson, at `per_hour` (one rate, or 24, from 00:00 local time)."""

    topic: str = Field(min_length=1)
    channel: ChannelName = "voice"
    language: str | None = None  # None: the config's default language
    priority: str | None = None  # None: the topic's class in the config
    per_hour: Rates  # a single number in the file stands for 24 equal rates
    handle_time: Distribution | None = None  # None: [handle_time.<topic>] (or ["*"])
    patience: Distribution | None = None  # None: [patience]

    @field_validator("per_hour", mode="before")
    @classmethod
    def _constant_rate(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (value,) * HOURS
        if not isinstance(value, list | tuple):
            raise _At((), "a rate per hour, or a list of 24 of them")
        return value

    @model_validator(mode="after")
    def _rates(self) -> Self:
        rates = self.per_hour
        if len(rates) != HOURS:
            raise _At(("per_hour",), f"a list of 24 hourly rates, not {len(rates)}")
        for hour, rate in enumerate(rates):
            if rate < 0:
                raise _At(("per_hour", hour), "a rate is >= 0")
        return self


def clock_minutes(value: str) -> int:
    """'08:30' -> 510; '24:00' is the end of the day."""
    m = _CLOCK.fullmatch(value)
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


class Break(_Section):
    """A break of `minutes` from `start`; with `stagger_min`, the group's members start theirs
    spread evenly over that many minutes from `start`, so the desk is never empty at once."""

    start: str
    minutes: float = Field(gt=0)
    stagger_min: float = Field(default=0, ge=0)


class Shift(_Section):
    """Every simulated day, from `start` to `end` (local time; an end before the start is the
    next morning's)."""

    start: str
    end: str
    breaks: tuple[Break, ...] = Field(default=(), strict=False)

    @model_validator(mode="after")
    def _times(self) -> Self:
        span = self.span_min
        for i, b in enumerate(self.breaks):
            try:
                at = clock_minutes(b.start)
            except ValueError as e:
                raise _At(("breaks", i, "start"), str(e)) from None
            offset = (at - self.start_min) % (HOURS * 60)
            if offset + b.stagger_min + b.minutes > span:
                raise _At(("breaks", i), "the break (and its stagger) must end within the shift")
        return self

    @property
    def start_min(self) -> int:
        try:
            return clock_minutes(self.start)
        except ValueError as e:
            raise _At(("start",), str(e)) from None

    @property
    def span_min(self) -> int:
        try:
            end = clock_minutes(self.end)
        except ValueError as e:
            raise _At(("end",), str(e)) from None
        span = (end - self.start_min) % (HOURS * 60)
        if span == 0:
            raise _At(("end",), "a shift ends at another time than it starts")
        return span


class OperatorGroup(_Section):
    """`count` operators alike. No shifts: signed in (ready) the whole time."""

    name: str | None = None
    count: int = Field(ge=0)
    skills: dict[str, int] = Field(min_length=1)
    languages: Names | None = None  # None: the config's default language
    capacity: dict[ChannelName, int] | None = None  # None: [operators.default_capacity]
    shifts: tuple[Shift, ...] = Field(default=(), strict=False)

    @model_validator(mode="after")
    def _values(self) -> Self:
        for skill, level in self.skills.items():
            if not 1 <= level <= 5:
                raise _At(("skills", skill), "a proficiency is 1..5")
        for channel, n in (self.capacity or {}).items():
            if n < 0:
                raise _At(("capacity", channel), "a capacity is >= 0")
        if self.languages is not None and not self.languages:
            raise _At(("languages",), "an operator speaks at least one language")
        return self


class Scenario(_Section):
    hours: float | None = Field(default=None, gt=0)
    days: float | None = Field(default=None, gt=0)
    warmup_min: float = Field(default=60, ge=0)
    # The first simulated day; hourly rates and shifts are read in the config's time zone.
    start: dt.date = DEFAULT_START
    # The hotline config whose routing policy and [kpi] rules are simulated, relative to the
    # scenario's folder; `--config` overrides it; neither: config/hotline.toml.
    config: Annotated[Path, Field(strict=False)] | None = None
    service_level_basis: Basis | None = None  # None: the config's kpi.service_level_basis
    short_abandon_s: float | None = Field(default=None, ge=0)  # None: the config's
    wrap_up_s: float | None = Field(default=None, ge=0)  # None: the config's routing.wrap_up_s
    arrivals: tuple[Arrival, ...] = Field(default=(), strict=False)  # none: only for --replay
    handle_time: dict[str, Distribution] = Field(default_factory=dict)
    patience: Distribution | None = None  # None: nobody abandons
    offer_delay: Distribution | None = None  # None: every offer is accepted at once
    # An operator who missed an offer is put on break by the router; back ready this later.
    back_after_miss_s: float = Field(default=30, gt=0)
    operators: tuple[OperatorGroup, ...] = Field(strict=False)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.hours is not None and self.days is not None:
            raise _At(("days",), "give hours or days, not both")
        if not self.operators:
            raise _At(("operators",), "at least one group is needed")
        held = {skill for g in self.operators if g.count for skill in g.skills}
        for i, a in enumerate(self.arrivals):
            if a.handle_time is None and self.handle_time_of(a.topic) is None:
                raise _At(("handle_time", a.topic), "required: arrivals name this topic")
            needs = {a.topic, "callback"} if a.channel == "callback" else {a.topic}
            missing = needs - held
            if missing:
                raise _At(
                    ("arrivals", i, "topic"),
                    f"no operator group has the skill {sorted(missing)[0]!r}",
                )
        names = [self.group_name(i) for i in range(len(self.operators))]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _At(("operators", i, "name"), f"{name!r} names two groups")
        return self

    @property
    def duration_s(self) -> float:
        """The simulated time measured, after the warm-up."""
        if self.hours is not None:
            return self.hours * 3600.0
        return (self.days if self.days is not None else 1.0) * 86_400.0

    def handle_time_of(self, topic: str) -> Distribution | None:
        return self.handle_time.get(topic, self.handle_time.get("*"))

    def group_name(self, index: int) -> str:
        name = self.operators[index].name
        return name if name is not None else f"g{index + 1}"

    def with_days(self, days: float) -> Scenario:
        return self.model_copy(update={"days": days, "hours": None})


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """Validate an already-parsed TOML document."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError([_problem(err) for err in e.errors(include_url=False)]) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate the scenario at `path`; its `config` is made relative to its folder."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ScenarioError([(str(path), "no such file")]) from None
    except OSError as e:
        raise ScenarioError([(str(path), f"cannot read: {e.strerror}")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ScenarioError([(str(path), f"not valid TOML: {e}")]) from None
    scenario = parse_scenario(data)
    if scenario.config is not None:
        scenario = scenario.model_copy(update={"config": path.parent / scenario.config})
    return scenario
