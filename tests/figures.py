"""The FIGURES of issue 12, in the order the API writes them: the contract every report keeps
(`GET /v1/stats`, the live view, `hotline simulate --json`). Written out here, not read from
hotline, so a key dropped or renamed there fails the tests that check against it."""

from __future__ import annotations

FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "expired",
    "asa_s",
    "max_wait_s",
    "service_level",
    "abandon_rate",
    "aht_s",
    "talk_s",
    "wrap_s",
    "occupancy",
    "deadline_met",
    "voicemail_within_hour",
    # issue 14: the quality loop (surveys, repeat contacts)
    "csat",
    "nps",
    "survey_response_rate",
    "repeat_rate",
    "first_contact_resolution",
)
