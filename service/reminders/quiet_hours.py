"""Sending windows in local time: when an unasked-for message may reach a phone.

Pure: no database, no clock. Times go in and come out timezone-aware; the
window is read in the organisation's time zone, so 09:00 stays 09:00 on
the days daylight saving starts and ends.
"""
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

ALL_DAYS = frozenset(range(1, 8))
# "24:00": a window may run to midnight.
END_OF_DAY = time.max
# A shorter window cannot send a wave of any size, and is almost always a typo.
MIN_WINDOW = timedelta(hours=1)


class WindowError(ValueError):
    """A window or time zone that cannot be used; the message says why, for the user."""


@dataclass(frozen=True)
class Window:
    """Messages go out from `start` to `end` (local wall-clock time) on `weekdays` (ISO: 1 Monday .. 7 Sunday)."""

    start: time = time(9, 0)
    end: time = time(20, 0)
    weekdays: frozenset[int] = field(default=ALL_DAYS)

    def problems(self) -> list[str]:
        """Why this window would never (or hardly ever) let a message out."""
        problems = []
        if not self.weekdays:
            problems.append("the sending window has no days: choose at least one weekday")
        if not self.weekdays <= ALL_DAYS:
            problems.append("weekdays are numbered 1 (Monday) to 7 (Sunday)")
        length = datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        if length < MIN_WINDOW:
            problems.append(
                f"the sending window {self.start:%H:%M}-{self.end:%H:%M} leaves no time to send: "
                "it must end at least an hour after it starts, on the same day"
            )
        return problems


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` ("Europe/Oslo"); WindowError if there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise WindowError(f"there is no time zone named {name!r}; use an IANA name such as Europe/Oslo") from None


def parse_time(text: str, name: str) -> time:
    """"09:00" -> time(9, 0); "24:00" is the end of the day. WindowError for anything else."""
    try:
        hours, minutes = str(text).split(":")
        if len(minutes) != 2:
            raise ValueError
        if (int(hours), int(minutes)) == (24, 0):
            return END_OF_DAY
        return time(int(hours), int(minutes))
    except ValueError:
        raise WindowError(f"{name} must be a time of day as HH:MM, e.g. 09:00") from None


def format_time(moment: time) -> str:
    """The inverse of parse_time."""
    return "24:00" if moment == END_OF_DAY else moment.strftime("%H:%M")


def _bounds(day: date, window: Window, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The window of a local day as UTC instants.

    A start in the spring-forward gap (02:30 when clocks jump from 02:00 to
    03:00) lands after the jump; in the repeated autumn hour the first
    occurrence counts. Both follow from zoneinfo's fold=0.
    """
    begin = datetime.combine(day, window.start, tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day, window.end, tzinfo=tz).astimezone(timezone.utc)
    return begin, end


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(timezone.utc)


def is_open(moment: datetime, window: Window, tz: ZoneInfo) -> bool:
    """True if a message may go out at `moment`."""
    return next_allowed(moment, window, tz) == _aware(moment)


def next_allowed(moment: datetime, window: Window, tz: ZoneInfo) -> datetime:
    """`moment` itself if the window is open then, else the next opening; in UTC."""
    moment = _aware(moment)
    today = moment.astimezone(tz).date()
    # Eight days always reach an allowed weekday, however the week is cut.
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.isoweekday() not in window.weekdays:
            continue
        begin, end = _bounds(day, window, tz)
        if moment < begin:
            return begin
        if moment < end:
            return moment
    raise WindowError("the sending window never opens")


def window_end(moment: datetime, window: Window, tz: ZoneInfo) -> datetime | None:
    """When the window open at `moment` closes (UTC); None if it is closed at `moment`."""
    moment = _aware(moment)
    day = moment.astimezone(tz).date()
    if day.isoweekday() not in window.weekdays:
        return None
    begin, end = _bounds(day, window, tz)
    return end if begin <= moment < end else None
