"""The quality figures (hotline.kpi.quality): csat, nps, response rate, repeat rate and first
contact resolution from their counters; the survey sample; the live tally's day; the answers'
rate limit per source."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from hotline.kpi import KpiRules, Tally, figures
from hotline.kpi.quality import (
    QUALITY_COUNTERS,
    LiveQuality,
    QualityTally,
    quality_figures,
    sampled,
)
from hotline.services.ratelimits import RateLimits

MOSCOW = ZoneInfo("Europe/Moscow")
MIDNIGHT = 1_780_002_000.0  # 2026-05-29T00:00 Moscow (UTC+3)


def answers(*ratings: tuple[int, int | None]) -> QualityTally:
    t = QualityTally()
    for csat, nps in ratings:
        t.count_answer(csat, nps)
    return t


def test_nothing_counted_gives_no_quality_figure() -> None:
    rules = KpiRules()
    f = figures(Tally(len(rules.thresholds)), rules)
    assert [f[k] for k in ("csat", "nps", "survey_response_rate")] == [None] * 3
    assert [f[k] for k in ("repeat_rate", "first_contact_resolution")] == [None] * 2
    assert quality_figures(QualityTally()) == quality_figures(None)


def test_csat_is_the_share_of_fours_and_fives() -> None:
    f = quality_figures(answers((5, None), (4, None), (3, None), (1, None)))
    assert f["csat"] == 0.5
    assert f["nps"] is None  # nobody was asked it


def test_nps_is_promoters_minus_detractors_in_points_passives_counting_in_the_whole() -> None:
    t = answers((5, 10), (5, 9), (4, 8), (2, 6), (1, 0))  # 2 promoters, 1 passive, 2 detractors
    assert quality_figures(t)["nps"] == 0.0
    # 2 promoters and 1 detractor of 4 (a passive counts in the whole only): 50 - 25.
    assert quality_figures(answers((5, 10), (5, 9), (5, 7), (1, 6)))["nps"] == 25.0
    assert quality_figures(answers((1, 0)))["nps"] == -100.0


def test_response_rate_repeat_rate_and_first_contact_resolution() -> None:
    t = QualityTally()
    for repeat in (False, False, False, False, True):
        t.count_contact(repeat=repeat)
    t.surveys_sent = 4
    t.merge(answers((5, None)))
    f = quality_figures(t)
    assert f["survey_response_rate"] == 0.25
    assert f["repeat_rate"] == 0.2  # 1 of 5 contacts
    assert f["first_contact_resolution"] == 0.75  # 1 - 1 repeat / 4 first contacts


def test_tallies_add_up() -> None:
    a, b = answers((5, 10)), answers((2, 3))
    b.count_contact(repeat=True)
    both = QualityTally().merge(a).merge(b)
    assert both == QualityTally(0, 1, 0, 2, 1, 2, 1, 1)


def test_the_sample_is_a_stable_share_of_contacts() -> None:
    ids = [f"c_{i:016x}" for i in range(4000)]
    chosen = [cid for cid in ids if sampled(cid, 0.25)]
    assert 0.22 < len(chosen) / len(ids) < 0.28
    assert chosen == [cid for cid in ids if sampled(cid, 0.25)]  # the same ones every time
    assert all(sampled(cid, 1.0) for cid in ids[:50])
    assert not any(sampled(cid, 0.0) for cid in ids[:50])
    assert set(chosen) <= {cid for cid in ids if sampled(cid, 0.5)}  # a larger share keeps them


def test_live_quality_starts_afresh_each_local_day_and_keeps_a_quarter_hour() -> None:
    live = LiveQuality(MOSCOW)
    live.add(MIDNIGHT - 60, answers((5, None)))  # 23:59 the day before
    today, window = live.tallies(MIDNIGHT - 1)
    assert (today.answers, window.answers) == (1, 1)
    live.add(MIDNIGHT + 60, answers((1, None)))
    today, window = live.tallies(MIDNIGHT + 120)
    assert (today.answers, today.csat_good, window.answers) == (1, 0, 2)
    today, window = live.tallies(MIDNIGHT + 16 * 60)
    assert (today.answers, window.answers) == (1, 0)
    live.add(MIDNIGHT - 120, answers((5, None)))  # late news of a day gone: in no live figure
    assert live.tallies(MIDNIGHT + 16 * 60)[0].answers == 1


def test_a_source_past_its_burst_waits_for_its_rate_and_others_do_not() -> None:
    limits = RateLimits()
    take = [limits.take("portal", now=100.0, per_s=1.0, burst=3) for _ in range(4)]
    assert take[:3] == [None, None, None]
    assert take[3] == pytest.approx(1.0)
    assert limits.take("ivr", now=100.0, per_s=1.0, burst=3) is None
    assert limits.take("portal", now=101.0, per_s=1.0, burst=3) is None
    assert limits.take("portal", now=101.0, per_s=1.0, burst=3) == pytest.approx(1.0)


def test_merging_adds_every_counter() -> None:
    # `merge` names the counters one by one: a counter added to the tuple must be added there.
    n = len(QUALITY_COUNTERS)
    merged = QualityTally(*range(1, n + 1)).merge(QualityTally(*(10 * i for i in range(1, n + 1))))
    assert merged.values() == tuple(11 * i for i in range(1, n + 1))


@pytest.mark.parametrize("counter", range(len(QUALITY_COUNTERS)))
def test_a_tally_is_true_when_any_counter_is_not_zero(counter: int) -> None:
    assert not QualityTally()
    assert QualityTally().values() == (0,) * len(QUALITY_COUNTERS)
    assert QualityTally(*(int(i == counter) for i in range(len(QUALITY_COUNTERS))))
