"""Reminder due times from a policy: offsets in local days, the last chance, the deadline, quiet hours."""
from dataclasses import replace
from datetime import date
from datetime import datetime
from datetime import timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from service.reminders.quiet_hours import Window
from service.reminders.plan import LAST_CHANCE
from service.reminders.plan import REMINDER
from service.reminders.plan import deadline_day
from service.reminders.plan import due_step
from service.reminders.plan import next_due
from service.reminders.plan import plan
from service.reminders.policy import DEFAULT
from service.reminders.policy import PolicyError
from service.reminders.policy import check
from service.reminders.policy import policy_from_json

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args):
    return datetime(*args, tzinfo=OSLO)


def summary(steps):
    return [(step.number, step.kind, step.due.astimezone(OSLO).strftime("%a %d.%m %H:%M")) for step in steps]


def test_default_plan_three_reminders_and_a_last_chance():
    steps = plan(DEFAULT, OSLO, oslo(2026, 11, 2, 10, 0), oslo(2026, 12, 16, 0, 0))
    assert summary(steps) == [
        (1, REMINDER, "Thu 05.11 10:00"),
        (2, REMINDER, "Mon 09.11 10:00"),
        (3, REMINDER, "Thu 12.11 10:00"),
        (4, LAST_CHANCE, "Sun 13.12 09:00"),
    ]


def test_offsets_keep_the_local_hour_across_the_autumn_change():
    # Invited Friday 23 October 10:00 CEST; the clocks go back on Sunday 25th.
    steps = plan(replace(DEFAULT, last_chance_days=None), OSLO, oslo(2026, 10, 23, 10, 0), None)
    assert summary(steps)[0] == (1, REMINDER, "Mon 26.10 10:00")
    assert steps[0].due == datetime(2026, 10, 26, 9, 0, tzinfo=timezone.utc)


def test_offsets_keep_the_local_hour_across_the_spring_change():
    steps = plan(replace(DEFAULT, last_chance_days=None), OSLO, oslo(2026, 3, 27, 19, 30), None)
    assert steps[0].due == datetime(2026, 3, 30, 17, 30, tzinfo=timezone.utc)


def test_an_invitation_held_overnight_counts_from_the_morning():
    steps = plan(replace(DEFAULT, last_chance_days=None), OSLO, oslo(2026, 11, 2, 22, 0), None)
    assert summary(steps)[0] == (1, REMINDER, "Fri 06.11 09:00")


def test_reminders_on_closed_days_move_to_the_next_open_one():
    policy = replace(DEFAULT, window=Window(weekdays=frozenset(range(1, 6))), last_chance_days=None)
    # Wednesday + 3 days is Saturday: it goes on Monday at 09:00.
    assert summary(plan(policy, OSLO, oslo(2026, 11, 4, 12, 0), None))[0] == (1, REMINDER, "Mon 09.11 09:00")


def test_the_last_chance_replaces_reminders_that_would_crowd_it():
    # Closing Monday 16 November: last chance Saturday 14th 09:00; the 10-day reminder (Thursday 12th) is
    # more than a day before it and stays, the 7-day one too; nothing at or after closing.
    steps = plan(DEFAULT, OSLO, oslo(2026, 11, 2, 10, 0), oslo(2026, 11, 16, 12, 0))
    assert [step.kind for step in steps] == [REMINDER, REMINDER, REMINDER, LAST_CHANCE]
    steps = plan(DEFAULT, OSLO, oslo(2026, 11, 2, 10, 0), oslo(2026, 11, 14, 12, 0))
    # Last chance Thursday 12th 09:00: the 10-day reminder that day is dropped, the 7-day one (9th) kept.
    assert summary(steps) == [(1, REMINDER, "Thu 05.11 10:00"), (2, REMINDER, "Mon 09.11 10:00"), (3, LAST_CHANCE, "Thu 12.11 09:00")]


def test_nothing_is_planned_at_or_after_closing():
    steps = plan(replace(DEFAULT, last_chance_days=None), OSLO, oslo(2026, 11, 2, 10, 0), oslo(2026, 11, 9, 10, 0))
    assert summary(steps) == [(1, REMINDER, "Thu 05.11 10:00")]


def test_a_late_invitation_gets_no_last_chance_within_a_day():
    steps = plan(DEFAULT, OSLO, oslo(2026, 12, 13, 12, 0), oslo(2026, 12, 16, 0, 0))
    assert steps == []


def test_the_deadline_day_of_a_campaign_closing_at_midnight_is_the_day_before():
    assert deadline_day(oslo(2026, 12, 16, 0, 0), OSLO) == date(2026, 12, 15)
    assert deadline_day(oslo(2026, 12, 15, 16, 0), OSLO) == date(2026, 12, 15)


def test_missed_reminders_send_only_the_latest():
    steps = plan(DEFAULT, OSLO, oslo(2026, 11, 2, 10, 0), oslo(2026, 12, 16, 0, 0))
    assert due_step(steps, 0, oslo(2026, 11, 5, 9, 59)) is None
    assert due_step(steps, 0, oslo(2026, 11, 5, 10, 0)).number == 1
    # The sweeper was down for a week: one reminder, the latest due, not three in a row.
    assert due_step(steps, 0, oslo(2026, 11, 12, 11, 0)).number == 3
    assert due_step(steps, 3, oslo(2026, 11, 12, 11, 0)) is None
    assert next_due(steps, 3) == steps[3].due and next_due(steps, 4) is None


def campaign(closes_at=None, launched_at=None, timezone_name="Europe/Oslo"):
    return SimpleNamespace(
        closes_at=closes_at, launched_at=launched_at, opens_at=None, organisation=SimpleNamespace(timezone=timezone_name)
    )


def problems(body, target=None, now=oslo(2026, 11, 2, 10, 0)):
    try:
        check(policy_from_json(body), target or campaign(), now)
    except PolicyError as error:
        return error.problems
    return []


def test_the_defaults_pass():
    assert problems({}) == []
    assert problems({}, campaign(closes_at=oslo(2026, 12, 16))) == []


def test_offsets_past_closing_are_refused_with_the_dates():
    [problem] = problems({"offsets_days": [3, 7, 14]}, campaign(closes_at=oslo(2026, 11, 12, 12, 0)))
    assert problem == (
        "reminders 14 days after the invitation fall after the campaign closes at 2026-11-12T12:00+01:00; "
        "use smaller offsets or a later closes_at"
    )


def test_a_last_chance_before_the_invitation_is_refused():
    [problem] = problems({"offsets_days": [1], "last_chance_days": 5}, campaign(closes_at=oslo(2026, 11, 5, 12, 0)))
    assert "last-chance reminder 5 days before closing would come before the invitation" in problem


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"offsets_days": [3, -1]}, "reminder offsets are whole days from 1 to 90 after the invitation"),
        ({"offsets_days": [0]}, "reminder offsets are whole days from 1 to 90 after the invitation"),
        ({"offsets_days": [3, 3]}, "reminder offsets must differ: two reminders on the same day"),
        ({"offsets_days": [1, 2, 3, 4, 5, 6]}, "at most 5 reminders; more would feel like pestering"),
        ({"offsets_days": "3,7"}, "offsets_days must be a list of whole days, e.g. [3, 7, 10]"),
        ({"offsets_days": [3.5]}, "offsets_days must be a list of whole days, e.g. [3, 7, 10]"),
        ({"timezone": "Europe/Olso"}, "there is no time zone named 'Europe/Olso'; use an IANA name such as Europe/Oslo"),
        ({"window": {"start": "20:00", "end": "09:00"}}, "the sending window 20:00-09:00 leaves no time to send"),
        ({"window": {"weekdays": []}}, "the sending window has no days: choose at least one weekday"),
        ({"window": {"start": "9am"}}, "window.start must be a time of day as HH:MM, e.g. 09:00"),
        ({"last_chance_days": 0}, "last_chance_days is a whole number of days from 1 to 30"),
        ({"nudge_after_hours": True}, "nudge_after_hours must be a whole number or null"),
        ({"reminders": [3]}, "unknown field(s): reminders"),
    ],
)
def test_bad_policies_are_explained(body, expected):
    found = problems(body)
    assert any(problem.startswith(expected) for problem in found), found


def test_an_organisation_time_zone_that_does_not_exist_is_caught_too():
    assert problems({}, campaign(timezone_name="Mars/Olympus")) == [
        "there is no time zone named 'Mars/Olympus'; use an IANA name such as Europe/Oslo"
    ]


def test_every_problem_is_listed_at_once():
    assert len(problems({"offsets_days": [3, 3, -2], "timezone": "Nowhere", "window": {"weekdays": []}})) == 4
