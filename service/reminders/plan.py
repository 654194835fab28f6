"""One invitation's reminders as due times: pure, from the policy, the invitation time and the deadline."""
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

from .quiet_hours import next_allowed
from .policy import Policy

REMINDER = "reminder"
LAST_CHANCE = "last_chance"
NUDGE = "nudge"
# Two reminders closer than this read as a mistake; the later, more urgent one wins.
MIN_GAP = timedelta(days=1)


@dataclass(frozen=True)
class Step:
    """Reminder `number` (1, 2, ...) of `kind`, due at `due` (UTC, inside the sending window)."""

    number: int
    kind: str
    due: datetime


def plan(policy: Policy, tz: ZoneInfo, invited_at: datetime, closes_at: datetime | None) -> list[Step]:
    """The reminders of an invitation issued at `invited_at`, in order; none at or after `closes_at`.

    Offsets count in local calendar days from when the invitation could go
    out, so "3 days" keeps the hour across a daylight-saving change. The
    last chance comes at the window's opening `last_chance_days` before the
    closing day.
    """
    sent = next_allowed(invited_at, policy.window, tz)
    local = sent.astimezone(tz)
    # Aware arithmetic on one tzinfo is wall-clock arithmetic: 10:00 stays 10:00.
    dues = [(REMINDER, next_allowed(local + timedelta(days=days), policy.window, tz)) for days in policy.offsets_days]
    if closes_at is not None and policy.last_chance_days is not None:
        last_day = deadline_day(closes_at, tz) - timedelta(days=policy.last_chance_days)
        opening = datetime.combine(last_day, policy.window.start, tzinfo=tz)
        last = next_allowed(opening, policy.window, tz)
        if last >= sent + MIN_GAP:
            dues = [(kind, due) for kind, due in dues if due <= last - MIN_GAP]
            dues.append((LAST_CHANCE, last))
    if closes_at is not None:
        dues = [(kind, due) for kind, due in dues if due < closes_at]
    dues.sort(key=lambda pair: pair[1])
    return [Step(number, kind, due) for number, (kind, due) in enumerate(dues, start=1)]


def deadline_day(closes_at: datetime, tz: ZoneInfo):
    """The last local day to answer: a campaign closing at midnight closes at the end of the day before."""
    return (closes_at - timedelta(seconds=1)).astimezone(tz).date()


def due_step(steps: list[Step], sent: int, now: datetime) -> Step | None:
    """The step to send now, after `sent` steps; when several were missed, only the latest of them."""
    due = [step for step in steps[sent:] if step.due <= now]
    return due[-1] if due else None


def next_due(steps: list[Step], sent: int) -> datetime | None:
    """When the step after the first `sent` is due; None when none is left."""
    return steps[sent].due if sent < len(steps) else None
