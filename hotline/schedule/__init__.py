"""Working hours: when each channel of the line is open, and deadlines in working time.

`rules` is the plain description (weekly hours, holiday rules, overrides, maintenance);
`calendar` is the pure `WorkingCalendar` over epoch seconds that the rest of the process asks.
`settings` (pydantic, imported on its own so the pure part never loads it) reads `[schedule]`
from the configuration and builds both.
"""

from hotline.schedule.calendar import ChannelStatus, NoWorkingTime, WorkingCalendar
from hotline.schedule.rules import (
    ChannelHours,
    DayHours,
    DayKind,
    MaintenanceWindow,
    ScheduleChannel,
    ScheduleRules,
    Span,
)

__all__ = [
    "ChannelHours",
    "ChannelStatus",
    "DayHours",
    "DayKind",
    "MaintenanceWindow",
    "NoWorkingTime",
    "ScheduleChannel",
    "ScheduleRules",
    "Span",
    "WorkingCalendar",
]
