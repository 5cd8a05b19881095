"""Settings: `config/hotline.toml` parsed into frozen pydantic models, checked whole at start-up.

Read by the CLI (`load_settings`) and handed to the composition root (`hotline.app`), which builds
the routing core's `RoutingPolicy` from it (`Settings.routing_policy()`). Pydantic stays here at
the edge: the core only ever sees the plain policy. Any bad value raises `ConfigError`, whose
message names the key's dotted path and what is wrong with it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hotline.domain.errors import Invalid
from hotline.kpi.rules import Basis, KpiRules
from hotline.notify.settings import NotifySettings
from hotline.notify.template_settings import TemplateSettings
from hotline.quality.themes import RulesError, ThemeClassifier
from hotline.routing import Channel, PriorityClass, RoutingPolicy
from hotline.schedule.settings import ScheduleSettings
from hotline.training.settings import CertificationSettings, ScorecardSettings
from hotline.voicemail.settings import VoicemailSettings

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_ANY_TOPIC = "*"
_MINUTE_S = 60.0

# TOML arrays arrive as lists; strict mode would refuse them as tuples, and tuples keep the
# settings immutable. Items are still checked (a number in a list of names is an error).
Names = Annotated[tuple[str, ...], Field(strict=False)]


class ConfigError(Exception):
    """The configuration cannot be used. `problems` holds every (dotted path, what) found;
    the message is the first of them."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        path, what = self.problems[0]
        super().__init__(f"{path}: {what}")


class _At(ValueError):
    """Raised by a validator to blame a key below the model it checks (a path relative to it)."""

    def __init__(self, key: tuple[str | int, ...], what: str) -> None:
        super().__init__(what)
        self.key = key
        self.what = what


class _Section(BaseModel):
    # strict: a TOML string never passes for a number, nor a boolean for a count.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class HttpSettings(_Section):
    bind: str
    shutdown_grace_s: float = Field(ge=0)
    max_body_kib: int = Field(default=64, gt=0)
    # An idle keep-alive connection is closed after this long (hotline.http_server).
    keep_alive_s: float = Field(default=75, gt=0)

    @model_validator(mode="after")
    def _bind_is_host_port(self) -> Self:
        try:
            check_bind(self.bind)
        except ValueError as e:
            raise _At(("bind",), str(e)) from None
        return self


class StoreSettings(_Section):
    path: Annotated[Path, Field(strict=False)]


class LogSettings(_Section):
    level: Literal["debug", "info", "warning", "error"]


class LanguageSettings(_Section):
    default: str
    accepted: Names = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for i, code in enumerate(self.accepted):
            if not _LANGUAGE.fullmatch(code):
                raise _At(("accepted", i), f"{code!r} is not a lower-case ISO 639 code")
            if code in self.accepted[:i]:
                raise _At(("accepted", i), f"{code!r} is listed twice")
        if self.default not in self.accepted:
            raise _At(("default",), f"{self.default!r} is not among the accepted languages")
        return self


class TopicSettings(_Section):
    label: str = Field(min_length=1)


class ClassSettings(_Section):
    rank: int = Field(ge=0)
    target_min: float = Field(gt=0)
    limit_min: float = Field(gt=0)
    topics: Names = ()

    @model_validator(mode="after")
    def _target_within_limit(self) -> Self:
        if self.target_min > self.limit_min:
            raise _At(("target_min",), "must be <= limit_min")
        return self


class RoutingSettings(_Section):
    offer_timeout_s: float = Field(gt=0)
    wrap_up_s: float = Field(ge=0)
    # What one contact takes an operator on average; only for the wait estimates callers get.
    handle_time_s: float = Field(default=300, gt=0)
    default_class: str
    classes: dict[str, ClassSettings] = Field(min_length=1)
    overflow: dict[str, Names] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _classes_consistent(self) -> Self:
        if self.default_class not in self.classes:
            raise _At(("default_class",), f"{self.default_class!r} is not a class in classes")
        ranks: dict[int, str] = {}
        for name, spec in self.classes.items():
            if not _CODE.fullmatch(name):
                raise _At(("classes", name), "a class name is lower case, digits and _")
            if spec.rank in ranks:
                raise _At(
                    ("classes", name, "rank"),
                    f"{spec.rank} is also the rank of {ranks[spec.rank]!r}",
                )
            ranks[spec.rank] = name
        return self


class CapacitySettings(_Section):
    voice: int = Field(ge=0)
    chat: int = Field(ge=0)
    callback: int = Field(ge=0)
    form: int = Field(ge=0)


class OperatorSettings(_Section):
    default_capacity: CapacitySettings


class DepartmentSettings(_Section):
    label: str = Field(min_length=1)


class TicketsSettings(_Section):
    # Where a ticket can be escalated: code -> label.
    departments: dict[str, DepartmentSettings] = Field(default_factory=dict)


class IdentitySettings(_Section):
    max_failures: int = Field(default=3, ge=1)  # failed checks from one phone before the lock
    lock_minutes: float = Field(default=30, gt=0)  # ... counted over this window


class FormsSettings(_Section):
    # Where attachments of feedback forms are kept (one directory per form). Unset in the file:
    # `<database's folder>/<its name>.files/attachments` (`Settings`, `files_dir`).
    attachments_dir: Annotated[Path, Field(strict=False)] = Path("var/attachments")
    max_attachments: int = Field(default=5, ge=0, le=20)
    max_attachment_kib: int = Field(default=5120, gt=0)
    # Kinds accepted, recognised by their content: pdf, png, jpeg.
    attachment_types: Names = ("pdf", "png", "jpeg")
    # The ticket topic of each feedback type.
    feedback_topics: dict[str, str] = Field(
        default_factory=lambda: {
            "technical": "technical",
            "information": "applications",
            "recommendation": "applications",
        }
    )

    @model_validator(mode="after")
    def _known_kinds(self) -> Self:
        for kind in self.attachment_types:
            if kind not in ("pdf", "png", "jpeg"):
                raise _At(("attachment_types",), f"{kind!r} is not one of pdf, png, jpeg")
        for kind in self.feedback_topics:
            if kind not in ("technical", "information", "recommendation"):
                raise _At(("feedback_topics", kind), "not a feedback type")
        return self


class RetentionSettings(_Section):
    # Finished contacts, tickets, messages, voicemails and identity checks lose the citizen's
    # phone, name and texts this many days after they finished (`hotline.store.retention`).
    # At least a day: an identity check's phone drives its lock for `lock_minutes`.
    personal_data_days: float = Field(default=90, ge=1)
    # The KPI rollups per minute (the live view's last quarter hour) are purged after this many
    # days; those per interval and per day are kept (`hotline.store.rollups`).
    kpi_minutes_days: float = Field(default=2, gt=0)

    @property
    def personal_data_s(self) -> float:
        return self.personal_data_days * 86_400.0

    @property
    def kpi_minutes_s(self) -> float:
        return self.kpi_minutes_days * 86_400.0


class KpiSettings(_Section):
    # How the line's service levels are measured (`hotline.kpi`; README "Service levels, defined").
    service_level_s: Annotated[tuple[int, ...], Field(strict=False)] = Field(
        default=(20, 25, 30), min_length=1, max_length=6
    )
    service_level_basis: Basis = "offered_minus_short"
    short_abandon_s: float = Field(default=5, ge=0)
    interval_min: int = Field(default=15, gt=0, le=1440)
    # Shown on the wallboard and in reports, never used for routing: `sl_<T>` for a threshold T
    # above, and asa_s, max_wait_s, abandon_rate.
    goals: dict[str, float] = Field(
        default_factory=lambda: {
            "sl_20": 0.85,
            "sl_30": 0.95,
            "asa_s": 12,
            "max_wait_s": 45,
            "abandon_rate": 0.05,
        }
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if list(self.service_level_s) != sorted(set(self.service_level_s)):
            raise _At(("service_level_s",), "thresholds must be distinct and ascending")
        if any(t <= 0 for t in self.service_level_s):
            raise _At(("service_level_s",), "a threshold is a positive number of seconds")
        if 1440 % self.interval_min:
            raise _At(("interval_min",), "an interval must divide a day (15, 30, 60 ...)")
        known = {f"sl_{t}" for t in self.service_level_s} | {"asa_s", "max_wait_s", "abandon_rate"}
        for name, value in self.goals.items():
            if name not in known:
                raise _At(("goals", name), f"not a goal; one of {', '.join(sorted(known))}")
            if value < 0 or ((name.startswith("sl_") or name == "abandon_rate") and value > 1):
                raise _At(("goals", name), "a share is between 0 and 1, a time is >= 0")
        return self

    def rules(self, classes: tuple[str, ...], tz: ZoneInfo) -> KpiRules:
        return KpiRules(
            thresholds=self.service_level_s,
            basis=self.service_level_basis,
            short_abandon_s=self.short_abandon_s,
            interval_s=self.interval_min * 60,
            classes=classes,
            tz=tz,
            goals=dict(self.goals),
        )


class MetricsSettings(_Section):
    # Who may scrape GET /metrics: "loopback" (no token, from this host only; anyone else 403)
    # or "token" (a supervisor's or an admin's bearer token, from anywhere).
    access: Literal["loopback", "token"] = "loopback"


# -- surveys and repeat contacts (issue 14) --------------------------------------------------------
SURVEY_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off a phone


class SurveySettings(_Section):
    """`[surveys]`: the rating SMS after a completed voice, chat or callback contact."""

    enabled: bool = True
    # The share of completed contacts surveyed (0..1); which ones is a hash of the contact's id.
    share: float = Field(default=1.0, ge=0, le=1)
    # The link in the SMS: this followed by the code (the portal's page reads it from its path).
    link_base: str = Field(default="https://gosuslugi.example/rate/", min_length=1, max_length=60)
    # The SMS text; {link} is the link_base followed by the code.
    sms_text: str = Field(
        default="Оцените, пожалуйста, разговор с горячей линией: {link}",  # noqa: RUF001
        min_length=1,
        max_length=300,
    )
    code_length: int = Field(default=10, ge=8, le=32)  # of SURVEY_CODE_ALPHABET: 4.95 bits each
    expire_days: float = Field(default=7, gt=0)
    nps_every_days: float = Field(default=30, ge=0)  # NPS asked at most this often per phone
    # Answers per source (the calling token) over a minute, and at once: past it, 429.
    answers_per_minute: float = Field(default=60, gt=0)
    answers_burst: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _link_placeholder(self) -> Self:
        try:
            self.sms_text.format_map({"link": ""})
        except (KeyError, ValueError, IndexError):
            raise _At(("sms_text",), "the only placeholder is {link}") from None
        if "{link}" not in self.sms_text:
            raise _At(("sms_text",), "the text must hold {link}")
        return self


class QualitySettings(_Section):
    """`[quality]`: what counts as a repeat contact."""

    repeat_window_h: float = Field(default=72, gt=0)


class KbSettings(_Section):
    # A search after which the same caller used no article within this many minutes is a gap:
    # a question the knowledge base could not answer (GET /v1/kb/reports).
    gap_window_min: int = Field(default=30, ge=1, le=24 * 60)
    # An article needs this many uses before the "least helpful" report judges it.
    least_helpful_min_uses: int = Field(default=3, ge=1)
    # How many rows each list of GET /v1/kb/reports holds.
    report_rows: int = Field(default=20, ge=1, le=200)


class Settings(_Section):
    http: HttpSettings
    store: StoreSettings
    log: LogSettings
    languages: LanguageSettings
    topics: dict[str, TopicSettings] = Field(min_length=1)
    routing: RoutingSettings
    operators: OperatorSettings
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    tickets: TicketsSettings = Field(default_factory=TicketsSettings)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    forms: FormsSettings = Field(default_factory=FormsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    voicemail: VoicemailSettings = Field(default_factory=VoicemailSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    kpi: KpiSettings = Field(default_factory=KpiSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    feedback: FeedbackSettings = Field(default_factory=lambda: FeedbackSettings())
    # The certification journal and the quality scorecards (hotline.training.settings).
    certification: CertificationSettings = Field(default_factory=CertificationSettings)
    scorecards: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], ScorecardSettings] = (
        Field(default_factory=dict)
    )
    kb: KbSettings = Field(default_factory=KbSettings)

    @model_validator(mode="before")
    @classmethod
    def _files_beside_the_database(cls, data: Any) -> Any:
        # Upload folders belong to their database: unless the file names them, they go beside
        # it, so two databases (a test run in a deployment's checkout) never share one.
        store = data.get("store") if isinstance(data, dict) else None
        if not isinstance(store, dict) or not isinstance(store.get("path"), str | Path):
            return data  # the store's own validation reports it
        files = files_dir(Path(store["path"]))
        data = dict(data)
        for section, key, name in _DERIVED_FOLDERS:
            values = data.get(section, {})
            if isinstance(values, dict) and key not in values:
                data[section] = {**values, key: files / name}
        return data

    def with_db(self, path: Path) -> Settings:
        """These settings on the database at `path` (`hotline serve --db`): the folders that
        were derived from the configured database's path follow it."""
        old, new = files_dir(self.store.path), files_dir(path)
        update: dict[str, Any] = {"store": self.store.model_copy(update={"path": path})}
        for section, key, name in _DERIVED_FOLDERS:
            values = getattr(self, section)
            if getattr(values, key) == old / name:
                update[section] = values.model_copy(update={key: new / name})
        return self.model_copy(update=update)

    @model_validator(mode="after")
    def _topics_known(self) -> Self:
        for topic in self.topics:
            if not _CODE.fullmatch(topic):
                raise _At(("topics", topic), "a topic code is lower case, digits and _")
        owner: dict[str, str] = {}
        where: tuple[str, ...]
        for name, spec in self.routing.classes.items():
            for topic in spec.topics:
                where = ("routing", "classes", name, "topics")
                if topic not in self.topics:
                    raise _At(where, f"unknown topic {topic!r} (not in [topics])")
                if topic in owner:
                    raise _At(where, f"{topic!r} is already in class {owner[topic]!r}")
                owner[topic] = name
        for kind, topic in self.forms.feedback_topics.items():
            if topic not in self.topics:
                raise _At(("forms", "feedback_topics", kind), f"unknown topic {topic!r}")
        for topic, skills in self.routing.overflow.items():
            where = ("routing", "overflow", topic)
            if topic != _ANY_TOPIC and topic not in self.topics:
                raise _At(where, f"unknown topic {topic!r} (not in [topics], nor '*')")
            for skill in skills:
                if skill not in self.topics:
                    raise _At(where, f"unknown skill {skill!r} (not in [topics])")
                if skill == topic:
                    raise _At(where, "a topic is not its own fallback")
            if len(set(skills)) != len(skills):
                raise _At(where, "a skill is listed twice")
        return self

    @property
    def timezone(self) -> ZoneInfo:
        """The line's time zone: calendar dates (certification, working days) are read in it."""
        return self.schedule.zone

    def kpi_rules(self) -> KpiRules:
        """The KPI core's view of `[kpi]`: priority classes in rank order, the line's zone."""
        ranked = sorted(self.routing.classes, key=lambda name: self.routing.classes[name].rank)
        return self.kpi.rules(tuple(ranked), self.timezone)

    def routing_policy(self) -> RoutingPolicy:
        """The pure core's view of these settings (times in seconds)."""
        r = self.routing
        try:
            return RoutingPolicy(
                classes={
                    name: PriorityClass(
                        name, c.rank, c.target_min * _MINUTE_S, c.limit_min * _MINUTE_S
                    )
                    for name, c in r.classes.items()
                },
                topic_class={t: name for name, c in r.classes.items() for t in c.topics},
                default_class=r.default_class,
                overflow=dict(r.overflow),
                offer_timeout_s=r.offer_timeout_s,
                wrap_up_s=r.wrap_up_s,
                default_language=self.languages.default,
            )
        except Invalid as e:
            # The checks above should have caught it; still name where it came from.
            raise ConfigError([(f"routing.{e.field or '?'}", e.message)]) from None

    def default_capacity(self) -> dict[Channel, int]:
        cap = self.operators.default_capacity
        return {
            Channel.VOICE: cap.voice,
            Channel.CHAT: cap.chat,
            Channel.CALLBACK: cap.callback,
            Channel.FORM: cap.form,
        }


def check_bind(value: str) -> str:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`; port 0 picks a free one). Returns it unchanged."""
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{value!r} is not HOST:PORT")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} has no port in 0..65535")
    return value


def parse_settings(data: Mapping[str, Any]) -> Settings:
    """Validate an already-parsed TOML document."""
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError([_problem(err) for err in e.errors(include_url=False)]) from None


def files_dir(db_path: Path) -> Path:
    """The folder of the files that belong to the database at `db_path`, unless configured
    otherwise: `var/hotline.db` keeps its recordings in `var/hotline.files/voicemail`."""
    return db_path.parent / f"{db_path.stem}.files"


# (section, key, folder under `files_dir`) of the folders that default to beside the database.
_DERIVED_FOLDERS = (("voicemail", "dir", "voicemail"), ("forms", "attachments_dir", "attachments"))


def load_settings(path: Path) -> Settings:
    """Read and validate the TOML file at `path`."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError([(str(path), "no such file")]) from None
    except OSError as e:
        raise ConfigError([(str(path), f"cannot read: {e.strerror}")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([(str(path), f"not valid TOML: {e}")]) from None
    except UnicodeDecodeError as e:  # TOML is UTF-8 (tomllib decodes the whole file first)
        raise ConfigError([(str(path), f"not UTF-8 text (byte {e.start})")]) from None
    except RecursionError:
        raise ConfigError([(str(path), "not valid TOML: nested too deeply")]) from None
    return parse_settings(data)


_MESSAGES = {"missing": "required key is missing", "extra_forbidden": "unknown key"}
_SHOULD = re.compile(r"^\w+ should")


def _problem(err: Mapping[str, Any]) -> tuple[str, str]:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, _At):
        return _dotted(loc + cause.key), cause.what
    # Pydantic says "Input should be ..." / "String should have ..."; the key is the subject here.
    what = _MESSAGES.get(err["type"]) or _SHOULD.sub("must", str(err["msg"]), count=1)
    bad = err.get("input")
    if err["type"] != "missing" and isinstance(bad, str | int | float | bool):
        what = f"{what} (got {bad!r})"
    return _dotted(loc), what


def _dotted(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(top level)"


# -- Feedback sorted by theme (issue 14) -----------------------------------------------------------


class FeedbackSettings(_Section):
    # The feedback-form types whose text is feedback to sort by theme (the others are requests
    # for help, which become tickets only).
    form_kinds: Names = ("recommendation",)
    # Theme -> words and phrases in any form, matched after stemming (`hotline.quality.themes`).
    # None here: every comment is `other` until config/hotline.toml gives them.
    themes: dict[str, Names] = Field(default_factory=dict)
    # GET /v1/quality/trends: how many rising terms it lists (per group and in all), the fewest
    # comments a term must be in to be listed, and the longest period it compares.
    trend_terms: int = Field(default=10, ge=1, le=100)
    trend_min_count: int = Field(default=2, ge=1)
    trend_max_days: int = Field(default=366, ge=1)

    @model_validator(mode="after")
    def _usable(self) -> Self:
        for kind in self.form_kinds:
            if kind not in ("technical", "information", "recommendation"):
                raise _At(("form_kinds",), f"{kind!r} is not a feedback type")
        for theme, phrases in self.themes.items():
            try:
                ThemeClassifier({theme: phrases})
            except RulesError as err:
                raise _At(("themes", theme), str(err)) from None
        return self
