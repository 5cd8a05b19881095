"""The `[schedule]` section: the shipped defaults, every key it reads, and a clear message, at the
right key, for each kind of bad value."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from hotline.schedule import ScheduleChannel
from hotline.schedule.rules import ALL_DAY, CLOSED, DayHours, MaintenanceWindow
from hotline.schedule.settings import ChannelName, ScheduleSettings

# The defaults spelled out: what a deployer would put in config/hotline.toml.
DEFAULTS_TOML = """
[schedule]
timezone = "Europe/Moscow"
country = "RU"
extra_holidays = []
extra_working_days = []

[schedule.channels.voice]
mon = ["08:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
sat = ["09:00-18:00"]
sun = ["10:00-16:00"]
holidays = "usual_hours"
transferred_working_days = "usual_hours"

[schedule.channels.chat]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]

[schedule.channels.voicemail]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]
"""

EVERY_KEY_TOML = """
[schedule]
timezone = "Europe/Moscow"
country = "RU"
extra_holidays = [2026-12-30]
extra_working_days = ["2026-12-26"]

[schedule.channels.voice]
mon = ["08:00-12:00", "13:00-20:00"]
tue = ["08:00-20:00"]
wed = ["08:00-20:00"]
thu = ["08:00-20:00"]
fri = ["08:00-20:00"]
sat = ["09:00-18:00"]
sun = []
holidays = "closed"
transferred_working_days = ["09:00-15:00"]
closed_dates = [2026-12-31]

[schedule.channels.voice.dates]
2027-01-09 = ["10:00-14:00"]

[[schedule.maintenance]]
start = 2026-03-14T02:00:00
end = 2026-03-14T04:00:00
channels = ["voice", "chat"]
reason = "PBX upgrade"

[[schedule.maintenance]]
start = 2026-04-01T00:00:00Z
end = 2026-04-01T00:30:00Z
channels = ["voicemail"]
"""


def section(text: str) -> dict[str, Any]:
    return dict(tomllib.loads(text)["schedule"])


def test_the_defaults_are_the_hours_the_issue_ships() -> None:
    rules = ScheduleSettings().rules()
    voice = rules.channels[ScheduleChannel.VOICE]
    assert [str(day) for day in voice.weekly] == [
        *["08:00-20:00"] * 5,
        "09:00-18:00",
        "10:00-16:00",
    ]
    assert voice.on_holidays is None and voice.on_transferred_workdays is None
    for always in (ScheduleChannel.CHAT, ScheduleChannel.VOICEMAIL):
        assert rules.channels[always].weekly == (ALL_DAY,) * 7
    assert str(rules.timezone) == "Europe/Moscow"
    assert rules.maintenance == ()


def test_the_defaults_spelled_out_in_toml_read_the_same() -> None:
    assert ScheduleSettings.model_validate(section(DEFAULTS_TOML)) == ScheduleSettings()


def test_a_channel_left_out_keeps_its_shipped_hours() -> None:
    doc = section(DEFAULTS_TOML)
    del doc["channels"]["chat"]
    doc["channels"]["voice"]["sun"] = []
    rules = ScheduleSettings.model_validate(doc).rules()
    assert rules.channels[ScheduleChannel.CHAT].weekly == (ALL_DAY,) * 7
    assert rules.channels[ScheduleChannel.VOICE].weekly[6] == CLOSED


def test_every_key_is_read() -> None:
    rules = ScheduleSettings.model_validate(section(EVERY_KEY_TOML)).rules()
    voice = rules.channels[ScheduleChannel.VOICE]
    assert str(voice.weekly[0]) == "08:00-12:00, 13:00-20:00"
    assert voice.weekly[6] == CLOSED
    assert voice.on_holidays == CLOSED
    assert voice.on_transferred_workdays == DayHours.of(["09:00-15:00"])
    assert voice.dates == {
        date(2026, 12, 31): CLOSED,
        date(2027, 1, 9): DayHours.of(["10:00-14:00"]),
    }
    assert rules.extra_holidays == {date(2026, 12, 30)}
    assert rules.extra_working_days == {date(2026, 12, 26)}
    local_window, utc_window = rules.maintenance
    assert local_window == MaintenanceWindow(
        start=datetime(2026, 3, 13, 23, 0, tzinfo=UTC).timestamp(),  # 02:00 Moscow time
        end=datetime(2026, 3, 14, 1, 0, tzinfo=UTC).timestamp(),
        channels=frozenset({ScheduleChannel.VOICE, ScheduleChannel.CHAT}),
        reason="PBX upgrade",
    )
    assert utc_window.start == datetime(2026, 4, 1, tzinfo=UTC).timestamp()
    assert utc_window.channels == {ScheduleChannel.VOICEMAIL}


def test_weekday_hours_for_transferred_days_are_the_monday_to_friday_hours() -> None:
    doc = section(DEFAULTS_TOML)
    doc["channels"]["voice"]["transferred_working_days"] = "weekday_hours"
    voice = ScheduleSettings.model_validate(doc).rules().channels[ScheduleChannel.VOICE]
    assert voice.on_transferred_workdays == DayHours.of(["08:00-20:00"])


def test_the_channel_names_in_maintenance_are_the_calendars_channels() -> None:
    assert get_args(ChannelName) == tuple(c.value for c in ScheduleChannel)


def _voice(**change: Any) -> dict[str, Any]:
    doc = section(DEFAULTS_TOML)
    doc["channels"]["voice"].update(change)
    return doc


def _window(**change: Any) -> dict[str, Any]:
    window = {
        "start": datetime(2026, 3, 14, 2),
        "end": datetime(2026, 3, 14, 4),
        "channels": ["voice"],
    }
    return {"maintenance": [window | change]}


@pytest.mark.parametrize(
    ("doc", "where", "message"),
    [
        (_voice(mon=["8-20"]), ("channels", "voice", "mon"), "'8-20' is not HH:MM-HH:MM"),
        (
            _voice(tue=["08:00-24:30"]),
            ("channels", "voice", "tue"),
            "'08:00-24:30' is not a time of day between 00:00 and 24:00",
        ),
        (
            _voice(wed=["20:00-08:00"]),
            ("channels", "voice", "wed"),
            "20:00-08:00: the end must be after the start (split a shift past midnight at 24:00)",
        ),
        (
            _voice(thu=["08:00-12:00", "11:00-20:00"]),
            ("channels", "voice", "thu"),
            "08:00-12:00 and 11:00-20:00 overlap",
        ),
        (_voice(fri="08:00-20:00"), ("channels", "voice", "fri"), "must be a list of"),
        (
            _voice(holidays="shut"),
            ("channels", "voice", "holidays"),
            "must be 'usual_hours' or 'closed', or a list of spans (got 'shut')",
        ),
        (
            _voice(mon=["08:00-12:00"], transferred_working_days="weekday_hours"),
            ("channels", "voice"),
            "'weekday_hours' needs the same hours Monday to Friday",
        ),
        (
            _voice(closed_dates=["2026-12-31"], dates={"2026-12-31": []}),
            ("channels", "voice"),
            "2026-12-31 is both in closed_dates and in dates",
        ),
        (
            _voice(closed_dates=["2026-12-31", date(2026, 12, 31)]),
            ("channels", "voice", "closed_dates"),
            "2026-12-31 is listed twice",
        ),
        (
            _voice(dates={"2026-02-30": []}),
            ("channels", "voice", "dates"),
            "'2026-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            _voice(dates={"2026-12-30": ["x"]}),
            ("channels", "voice", "dates"),
            "2026-12-30: 'x' is not HH:MM-HH:MM",
        ),
        ({"channels": {"fax": {}}}, ("channels",), "unknown channel 'fax'"),
        ({"timezone": "Mars/Olympus"}, ("timezone",), "'Mars/Olympus' is not a known IANA"),
        ({"country": "XX"}, ("country",), "'XX' has no production calendar"),
        (
            {"extra_holidays": ["2026-12-01"], "extra_working_days": [date(2026, 12, 1)]},
            (),
            "2026-12-01 is both in extra_holidays and in extra_working_days",
        ),
        (_window(end=datetime(2026, 3, 14, 1)), ("maintenance", 0), "end must be after start"),
        (
            _window(end=datetime(2026, 3, 14, 4, tzinfo=UTC)),
            ("maintenance", 0),
            "start and end must both have an offset or both be local times",
        ),
        (_window(channels=["fax"]), ("maintenance", 0, "channels", 0), "'voice', 'chat'"),
        (_window(channels=[]), ("maintenance", 0, "channels"), "at least 1 item"),
        (_window(start="soon"), ("maintenance", 0, "start"), "'soon' is not a date and time"),
        (_window(colour="red"), ("maintenance", 0, "colour"), "Extra inputs"),
    ],
)
def test_a_bad_value_is_refused_at_its_key_with_a_clear_message(
    doc: dict[str, Any], where: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduleSettings.model_validate(doc)
    problems = [(err["loc"], err["msg"]) for err in caught.value.errors(include_url=False)]
    assert any(loc == where and message in msg for loc, msg in problems), problems


def test_a_channel_table_must_spell_out_the_whole_week() -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduleSettings.model_validate({"channels": {"voice": {"mon": ["08:00-20:00"]}}})
    missing = {err["loc"][-1] for err in caught.value.errors() if err["type"] == "missing"}
    assert missing == {"tue", "wed", "thu", "fri", "sat", "sun"}


def test_settings_cannot_be_changed_once_read() -> None:
    settings = ScheduleSettings()
    with pytest.raises(ValidationError):
        settings.timezone = "UTC"  # type: ignore[misc]
