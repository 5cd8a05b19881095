"""`GET /metrics`: the line's figures for Prometheus, in the text format or OpenMetrics as the
scraper's `Accept` asks (prometheus_client's `choose_encoder`).

Each app has its own `CollectorRegistry` (`install`), never the process-wide one: tests build
many apps, and a metric registered twice in one registry is an error. What it exports:
- counters and histograms since the process started, from the live figures' `Totals`
  (`hotline.kpi.totals`), labelled by topic, priority class and channel only; so are the
  quality counters (first and repeat contacts, surveys sent and answered, CSAT 4-5, NPS
  promoters / passives / detractors: `LiveFigures.quality_totals`);
- today's quality figures as gauges (csat, nps, response rate, repeat rate, first-contact
  resolution; left out while they have nothing to divide);
- gauges read when scraped: what waits now and for how long, operators by state (the router, via
  the live figures' snapshot), voicemail callbacks overdue, and the outbox's messages not sent
  by kind (one small count in the store);
- the duration of every HTTP request by its route's template (`/v1/contacts/<contact_id>`,
  never the path it was called with), method and status, timed by this app's request hooks.
Who may scrape is `[metrics] access` (`hotline.api.roles`: from this host without a token by
default, or with a supervisor's or admin's token).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as PLAIN
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from quart import Blueprint, Quart, Response, current_app, g, request

from hotline.api.openapi import answers_with
from hotline.api.services import current_services
from hotline.kpi.quality import QUALITY_FIGURES, QualityTally
from hotline.kpi.totals import Histogram as Counts
from hotline.kpi.totals import Totals
from hotline.routing.model import OperatorState
from hotline.services.live import LiveFigures
from hotline.store.outbox import MessageKind, MessageState, count_unsent

__all__ = ["blueprint", "install"]

blueprint = Blueprint("metrics", __name__)

_KEY = "hotline.metrics"
QUEUE_LABELS = ("topic", "priority", "channel")
UNMATCHED = "unmatched"  # the route label of a request no route took (404, 405)


@dataclass(frozen=True, slots=True)
class Moment:
    """The gauges' values at one scrape."""

    waiting: int
    oldest_wait_s: float
    operators: Mapping[str, int]
    voicemail_overdue: int
    outbox: Mapping[tuple[MessageKind, MessageState], int]
    quality_today: Mapping[str, float | None] = field(default_factory=dict)


class LineCollector(Collector):
    """The line's counters and histograms (from `Totals`) and its gauges (from the `Moment`
    the scrape handler took just before encoding: `collect` cannot await)."""

    def __init__(self, live: LiveFigures) -> None:
        self._live = live
        self.moment: Moment | None = None

    def collect(self) -> Iterator[Metric]:
        yield from _counts(self._live.totals)
        yield from _quality_counts(self._live.quality_totals)
        if self.moment is not None:
            yield from _gauges(self.moment)


def _counts(totals: Totals) -> Iterator[Metric]:
    offered = CounterMetricFamily(
        "hotline_contacts_offered",
        "Contacts whose wait ended (answered, abandoned or expired), by queue",
        labels=QUEUE_LABELS,
    )
    answered = CounterMetricFamily(
        "hotline_contacts_answered", "Contacts accepted by an operator", labels=QUEUE_LABELS
    )
    abandoned = CounterMetricFamily(
        "hotline_contacts_abandoned",
        "Contacts whose citizen left before an answer; short: within [kpi] short_abandon_s",
        labels=(*QUEUE_LABELS, "short"),
    )
    expired = CounterMetricFamily(
        "hotline_contacts_expired",
        "Contacts the router ended unanswered (expired or transferred)",
        labels=QUEUE_LABELS,
    )
    waits = HistogramMetricFamily(
        "hotline_wait_seconds",
        "Waits from arrival to accept (ringing included) or to leaving, by outcome",
        labels=(*QUEUE_LABELS, "outcome"),
    )
    handle = HistogramMetricFamily(
        "hotline_handle_seconds",
        "Handling: part=talk per contact (accept to end), part=wrap per wrap-up of one contact",
        labels=(*QUEUE_LABELS, "part"),
    )
    for (topic, priority, channel), q in sorted(totals.queues.items()):
        queue = [topic, priority, channel]
        offered.add_metric(queue, q.offered)
        answered.add_metric(queue, q.answered)
        abandoned.add_metric([*queue, "true"], q.short_abandoned)
        abandoned.add_metric([*queue, "false"], q.abandoned - q.short_abandoned)
        expired.add_metric(queue, q.expired)
        for outcome, counts in q.waits.items():
            if counts.count:
                _histogram(waits, [*queue, outcome.value], counts)
        for part, counts in (("talk", q.talk), ("wrap", q.wrap)):
            if counts.count:
                _histogram(handle, [*queue, part], counts)
    return iter((offered, answered, abandoned, expired, waits, handle))


def _quality_counts(totals: Mapping[tuple[str, str, str], QualityTally]) -> Iterator[Metric]:
    def family(name: str, text: str, *extra: str) -> CounterMetricFamily:
        return CounterMetricFamily(name, text, labels=(*QUEUE_LABELS, *extra))

    contacts = family(
        "hotline_contacts_arrived",
        "Contacts by arrival; repeat=true: the same phone or citizen on the same topic within"
        " [quality] repeat_window_h",
        "repeat",
    )
    sent = family("hotline_surveys_sent", "Survey SMS put in the outbox after a completed contact")
    answers = family("hotline_survey_answers", "Survey answers; csat_good: rated 4 or 5", "csat")
    nps = family("hotline_survey_nps_answers", "NPS answers by kind (9-10, 7-8, 0-6)", "kind")
    for (topic, priority, channel), q in sorted(totals.items()):
        queue = [topic, priority, channel]
        contacts.add_metric([*queue, "false"], q.firsts)
        contacts.add_metric([*queue, "true"], q.repeats)
        sent.add_metric(queue, q.surveys_sent)
        answers.add_metric([*queue, "good"], q.csat_good)
        answers.add_metric([*queue, "other"], q.answers - q.csat_good)
        nps.add_metric([*queue, "promoter"], q.nps_promoters)
        passive = q.nps_answers - q.nps_promoters - q.nps_detractors
        nps.add_metric([*queue, "passive"], passive)
        nps.add_metric([*queue, "detractor"], q.nps_detractors)
    return iter((contacts, sent, answers, nps))


def _histogram(family: HistogramMetricFamily, labels: list[str], counts: Counts) -> None:
    buckets = [(_le(bound), n) for bound, n in counts.cumulative()]
    family.add_metric(labels, buckets, counts.sum)


def _le(bound: float) -> str:
    """A bucket's bound as prometheus_client writes it (20 -> "20.0", infinity -> "+Inf")."""
    return "+Inf" if bound == float("inf") else repr(float(bound))


def _gauges(m: Moment) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "hotline_contacts_waiting",
        "Contacts whose wait goes on: queued or ringing at a desk (voicemail callbacks too)",
        value=m.waiting,
    )
    yield GaugeMetricFamily(
        "hotline_oldest_wait_seconds",
        "The longest wait of a contact queued now; 0 when none is",
        value=m.oldest_wait_s,
    )
    operators = GaugeMetricFamily("hotline_operators", "Operators by state", labels=("state",))
    for state, n in m.operators.items():
        operators.add_metric([state], n)
    yield operators
    yield GaugeMetricFamily(
        "hotline_voicemail_overdue",
        "Voicemail callbacks past their working hour and not taken yet",
        value=m.voicemail_overdue,
    )
    outbox = GaugeMetricFamily(
        "hotline_outbox_messages",
        "Messages not delivered: pending (due or being sent) and failed, by kind",
        labels=("kind", "state"),
    )
    for (kind, state), n in m.outbox.items():
        outbox.add_metric([kind.value, state.value], n)
    yield outbox
    for name in QUALITY_FIGURES:
        value = m.quality_today.get(name)
        if value is not None:
            yield GaugeMetricFamily(
                f"hotline_today_{name}",
                f"Today's {name} (README 'Surveys and repeat contacts'); nps in points",
                value=value,
            )


@dataclass(frozen=True, slots=True)
class _Metrics:
    registry: CollectorRegistry
    line: LineCollector
    requests: Histogram
    # The histogram's child per (route, method, status), looked up once: `labels()` takes a
    # lock and checks its arguments on every call. Bounded as the labels are (see `_unmatched`).
    timers: dict[tuple[str, str, int], Any] = field(default_factory=dict)


def install(app: Quart, live: LiveFigures) -> None:
    """A registry for `app` with the line's figures and its requests' durations; the hooks that
    time the requests. Call after the access log's hooks (it takes their start time)."""
    registry = CollectorRegistry(auto_describe=False)
    line = LineCollector(live)
    registry.register(line)
    requests = Histogram(
        "hotline_http_request_duration_seconds",
        "HTTP requests by route template, method and status, until the answer's head is ready",
        labelnames=("route", "method", "status"),
        registry=registry,
    )
    app.extensions[_KEY] = _Metrics(registry, line, requests)
    app.after_request(_time_request)


async def _time_request(response: Response) -> Response:
    started = g.get("hotline_started")  # set by `hotline.api.access_log` before anything else
    if started is not None:
        rule = request.url_rule
        route, method = (rule.rule, request.method) if rule is not None else _unmatched()
        metrics: _Metrics = current_app.extensions[_KEY]
        key = (route, method, response.status_code)
        timer = metrics.timers.get(key)
        if timer is None:
            timer = metrics.timers[key] = metrics.requests.labels(route, method, str(key[2]))
        timer.observe(time.perf_counter() - started)
    return response


def _unmatched() -> tuple[str, str]:
    """The labels of a request no route took: a client may send any method name, and each
    would otherwise be a new series kept for as long as the process lives."""
    method = request.method
    return UNMATCHED, method if method in _HTTP_METHODS else "other"


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


@blueprint.get("/metrics")
@answers_with(
    "text/plain",
    "application/openmetrics-text",
    description="The Prometheus text format, or OpenMetrics when `Accept` asks for it",
)
async def scrape() -> Response:
    """The line's metrics for Prometheus (who may scrape: `[metrics] access`)."""
    sv = current_services()
    metrics: _Metrics = current_app.extensions[_KEY]
    live = await sv.live.snapshot()
    outbox = await sv.store.read(count_unsent)
    metrics.line.moment = Moment(
        waiting=live["waiting"],
        oldest_wait_s=live["oldest_wait_s"] or 0.0,
        operators={s.value: live["operators"].get(s.value, 0) for s in OperatorState},
        voicemail_overdue=live["voicemail_overdue"],
        outbox=outbox,
        quality_today={name: live["today"][name] for name in QUALITY_FIGURES},
    )
    encode, content_type = _encoder(request.headers.get("Accept", ""))
    body = encode(metrics.registry)  # no await since the moment was set: it is this scrape's
    return Response(body, content_type=content_type)


def _encoder(accept: str) -> tuple[Callable[[Any], bytes], str]:
    """prometheus_client's choice for `accept`; the text format for an `Accept` it cannot read
    (a version that is no version number)."""
    try:
        encode, content_type = choose_encoder(accept)
        if content_type != PLAIN:
            encode(CollectorRegistry())  # the version and escaping asked for are known ones
    except (TypeError, ValueError):
        return generate_latest, PLAIN
    return encode, content_type
