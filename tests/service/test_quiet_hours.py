"""Sending windows in local time, across daylight-saving changes in Oslo and Copenhagen."""
from datetime import datetime
from datetime import time
from datetime import timedelta
from datetime import timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.reminders.quiet_hours import Window
from service.reminders.quiet_hours import WindowError
from service.reminders.quiet_hours import format_time
from service.reminders.quiet_hours import is_open
from service.reminders.quiet_hours import next_allowed
from service.reminders.quiet_hours import parse_time
from service.reminders.quiet_hours import window_end
from service.reminders.quiet_hours import zone

OSLO = ZoneInfo("Europe/Oslo")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
DEFAULT = Window()
NO_SUNDAYS = Window(weekdays=frozenset(range(1, 7)))


def local(tz, *args):
    return datetime(*args, tzinfo=tz)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_inside_the_window_is_now():
    moment = local(OSLO, 2026, 10, 5, 12, 0)
    assert next_allowed(moment, DEFAULT, OSLO) == moment
    assert is_open(moment, DEFAULT, OSLO)


def test_a_launch_at_22_waits_for_09_the_next_day():
    assert next_allowed(local(OSLO, 2026, 10, 5, 22, 0), DEFAULT, OSLO) == local(OSLO, 2026, 10, 6, 9, 0)


def test_early_morning_waits_for_09_the_same_day():
    assert next_allowed(local(OSLO, 2026, 10, 6, 6, 30), DEFAULT, OSLO) == local(OSLO, 2026, 10, 6, 9, 0)


def test_the_window_end_is_exclusive_and_the_start_inclusive():
    assert not is_open(local(OSLO, 2026, 10, 5, 20, 0), DEFAULT, OSLO)
    assert is_open(local(OSLO, 2026, 10, 5, 19, 59, 59), DEFAULT, OSLO)
    assert is_open(local(OSLO, 2026, 10, 5, 9, 0), DEFAULT, OSLO)


def test_a_saturday_evening_skips_a_sunday_without_sending():
    # 2026-10-10 is a Saturday; Sunday is not a sending day.
    assert next_allowed(local(OSLO, 2026, 10, 10, 21, 0), NO_SUNDAYS, OSLO) == local(OSLO, 2026, 10, 12, 9, 0)
    assert not is_open(local(OSLO, 2026, 10, 11, 12, 0), NO_SUNDAYS, OSLO)


def test_weekdays_only_from_friday_night_to_monday():
    weekdays = Window(weekdays=frozenset(range(1, 6)))
    assert next_allowed(local(OSLO, 2026, 10, 9, 20, 30), weekdays, OSLO) == local(OSLO, 2026, 10, 12, 9, 0)


@pytest.mark.parametrize("tz", [OSLO, COPENHAGEN], ids=["oslo", "copenhagen"])
def test_spring_forward_keeps_09_local(tz):
    # 2026-03-29: clocks go from 02:00 to 03:00; 09:00 is 07:00 UTC that day, 08:00 UTC the day before.
    assert next_allowed(local(tz, 2026, 3, 28, 21, 0), DEFAULT, tz) == utc(2026, 3, 29, 7, 0)
    assert next_allowed(local(tz, 2026, 3, 27, 21, 0), DEFAULT, tz) == utc(2026, 3, 28, 8, 0)
    # 19:30 UTC is 21:30 local after the change: closed, although it was open at that UTC time before.
    assert not is_open(utc(2026, 3, 29, 19, 30), DEFAULT, tz)
    assert is_open(utc(2026, 3, 28, 18, 30), DEFAULT, tz)


@pytest.mark.parametrize("tz", [OSLO, COPENHAGEN], ids=["oslo", "copenhagen"])
def test_fall_back_keeps_09_and_20_local(tz):
    # 2026-10-25: clocks go from 03:00 back to 02:00; 09:00 is 08:00 UTC that day, 07:00 UTC the day before.
    assert next_allowed(local(tz, 2026, 10, 24, 21, 0), DEFAULT, tz) == utc(2026, 10, 25, 8, 0)
    assert next_allowed(utc(2026, 10, 24, 5, 0), DEFAULT, tz) == utc(2026, 10, 24, 7, 0)
    assert window_end(utc(2026, 10, 25, 12, 0), DEFAULT, tz) == utc(2026, 10, 25, 19, 0)
    assert window_end(utc(2026, 10, 24, 12, 0), DEFAULT, tz) == utc(2026, 10, 24, 18, 0)


def test_a_window_starting_in_the_missing_hour_opens_when_the_clock_jumps():
    night = Window(start=time(2, 30), end=time(6, 0))
    # 02:30 does not exist on 2026-03-29 in Oslo: 01:30 UTC is 03:30 CEST, an hour after the jump.
    assert next_allowed(utc(2026, 3, 29, 0, 0), night, OSLO) == utc(2026, 3, 29, 1, 30)


def test_a_window_starting_in_the_repeated_hour_opens_at_the_first():
    night = Window(start=time(2, 30), end=time(6, 0))
    # 02:30 happens twice on 2026-10-25: first at 00:30 UTC (CEST), then at 01:30 UTC (CET).
    assert next_allowed(utc(2026, 10, 25, 0, 0), night, OSLO) == utc(2026, 10, 25, 0, 30)


def test_window_end_is_none_when_closed():
    assert window_end(local(OSLO, 2026, 10, 5, 21, 0), DEFAULT, OSLO) is None
    assert window_end(local(OSLO, 2026, 10, 5, 10, 0), DEFAULT, OSLO) == local(OSLO, 2026, 10, 5, 20, 0)


def test_a_window_to_midnight():
    late = Window(start=time(0, 0), end=parse_time("24:00", "end"))
    assert is_open(local(OSLO, 2026, 10, 5, 23, 59, 59), late, OSLO)
    assert format_time(late.end) == "24:00"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2026, 10, 5, 12, 0), DEFAULT, OSLO)


def test_windows_that_leave_no_time_are_explained():
    assert Window(start=time(20), end=time(9)).problems() == [
        "the sending window 20:00-09:00 leaves no time to send: it must end at least an hour after it starts, on the same day"
    ]
    assert Window(start=time(9), end=time(9, 30)).problems()
    assert Window(weekdays=frozenset()).problems() == ["the sending window has no days: choose at least one weekday"]
    assert Window(weekdays=frozenset({0, 8})).problems() == ["weekdays are numbered 1 (Monday) to 7 (Sunday)"]
    assert DEFAULT.problems() == []


def test_unknown_time_zones_and_times_are_refused():
    with pytest.raises(WindowError, match="no time zone named 'Europe/Olso'"):
        zone("Europe/Olso")
    with pytest.raises(WindowError, match="no time zone"):
        zone("../etc/passwd")
    assert zone("Europe/Copenhagen") == COPENHAGEN
    for bad in ("9", "25:00", "09:60", "9.00", "nine"):
        with pytest.raises(WindowError, match="HH:MM"):
            parse_time(bad, "start")


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(timezone.utc)),
    st.sampled_from([OSLO, COPENHAGEN]),
    st.frozensets(st.integers(1, 7), min_size=1),
)
def test_next_allowed_is_open_not_earlier_and_nothing_open_is_skipped(moment, tz, weekdays):
    window = Window(weekdays=weekdays)
    allowed = next_allowed(moment, window, tz)
    assert allowed >= moment and is_open(allowed, window, tz)
    assert allowed - moment < timedelta(days=8)
    # Nothing between moment and allowed was open (checked every quarter hour).
    probe = moment
    while probe < allowed - timedelta(minutes=15):
        probe += timedelta(minutes=15)
        assert not is_open(probe, window, tz) or probe >= allowed
