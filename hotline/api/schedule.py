"""`GET /v1/schedule`: whether each channel is open now and when it next opens or closes, for
integrations (the switch plays the voicemail prompt while the voice line is closed)."""

from __future__ import annotations

from datetime import datetime

from quart import Blueprint
from quart_schema import validate_response

from hotline.api.schemas import Response, instant
from hotline.api.services import caller, current_services
from hotline.schedule.rules import ScheduleChannel

blueprint = Blueprint("schedule", __name__, url_prefix="/v1/schedule")


class ChannelHoursOut(Response):
    channel: ScheduleChannel
    open: bool
    opens_at: datetime | None
    closes_at: datetime | None


class ScheduleOut(Response):
    timezone: str
    channels: list[ChannelHoursOut]


@blueprint.get("")
@validate_response(ScheduleOut)
async def show() -> ScheduleOut:
    await caller()  # any role
    sv = current_services()
    now = sv.clock.now()
    rows = []
    for channel in ScheduleChannel:
        status = sv.calendar.describe(channel, now)
        rows.append(
            ChannelHoursOut(
                channel=channel,
                open=status.open,
                opens_at=instant(status.opens_at),
                closes_at=instant(status.closes_at),
            )
        )
    return ScheduleOut(timezone=sv.settings.schedule.timezone, channels=rows)
