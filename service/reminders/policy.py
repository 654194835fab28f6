"""A campaign's reminder policy: defaults, reading it from JSON, checking it, storing it."""
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta

from sqlalchemy import update

from ..models import Campaign
from ..models import Invitation
from ..models import ReminderPolicy
from .quiet_hours import Window
from .quiet_hours import WindowError
from .quiet_hours import format_time
from .quiet_hours import parse_time
from .quiet_hours import zone

MAX_REMINDERS = 5
MAX_OFFSET_DAYS = 90
MAX_LAST_CHANCE_DAYS = 30
MAX_NUDGE_HOURS = 14 * 24
# Invitation statuses that may still get a reminder.
REMINDABLE = ("invited", "delivered", "started")


class PolicyError(ValueError):
    """A policy that cannot be used; `problems` lists every reason, for the user."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Policy:
    """The defaults are what the municipal programmes recommend: three reminders and a last chance."""

    offsets_days: tuple[int, ...] = (3, 7, 10)
    last_chance_days: int | None = 2
    nudge_after_hours: int | None = 24
    window: Window = field(default_factory=Window)
    # None: the organisation's time zone.
    timezone: str | None = None

    def zone_name(self, campaign: Campaign) -> str:
        return self.timezone or campaign.organisation.timezone or "Europe/Oslo"


DEFAULT = Policy()


def policy_of(session, campaign: Campaign) -> Policy:
    """The campaign's stored policy, or the defaults."""
    row = session.get(ReminderPolicy, campaign.id)
    if row is None:
        return DEFAULT
    return Policy(
        offsets_days=tuple(row.offsets_days),
        last_chance_days=row.last_chance_days,
        nudge_after_hours=row.nudge_after_hours,
        window=Window(parse_time(row.window_start, "start"), parse_time(row.window_end, "end"), frozenset(row.weekdays)),
        timezone=row.timezone,
    )


def save_policy(session, campaign: Campaign, policy: Policy, now: datetime):
    """Store a checked policy; open invitations are looked at again by the next reminder sweep."""
    check(policy, campaign, now)
    row = session.get(ReminderPolicy, campaign.id) or ReminderPolicy(campaign_id=campaign.id)
    row.offsets_days = list(policy.offsets_days)
    row.last_chance_days = policy.last_chance_days
    row.nudge_after_hours = policy.nudge_after_hours
    row.window_start = format_time(policy.window.start)
    row.window_end = format_time(policy.window.end)
    row.weekdays = sorted(policy.window.weekdays)
    row.timezone = policy.timezone
    row.updated_at = now
    session.add(row)
    if campaign.status == "open":
        # The sweep recomputes each schedule from the new policy (workers/reminders.py).
        session.execute(
            update(Invitation)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.status.in_(REMINDABLE),
                Invitation.address_enc.is_not(None),
            )
            .values(next_reminder_at=now)
        )


def check(policy: Policy, campaign: Campaign, now: datetime):
    """Raise PolicyError listing everything wrong with `policy` for this campaign."""
    problems = list(policy.window.problems())
    try:
        zone(policy.zone_name(campaign))
    except WindowError as error:
        problems.append(str(error))
    offsets = policy.offsets_days
    if len(offsets) > MAX_REMINDERS:
        problems.append(f"at most {MAX_REMINDERS} reminders; more would feel like pestering")
    if any(day < 1 or day > MAX_OFFSET_DAYS for day in offsets):
        problems.append(f"reminder offsets are whole days from 1 to {MAX_OFFSET_DAYS} after the invitation")
    if len(set(offsets)) != len(offsets):
        problems.append("reminder offsets must differ: two reminders on the same day")
    if policy.last_chance_days is not None and not 1 <= policy.last_chance_days <= MAX_LAST_CHANCE_DAYS:
        problems.append(f"last_chance_days is a whole number of days from 1 to {MAX_LAST_CHANCE_DAYS}")
    if policy.nudge_after_hours is not None and not 1 <= policy.nudge_after_hours <= MAX_NUDGE_HOURS:
        problems.append(f"nudge_after_hours is a whole number of hours from 1 to {MAX_NUDGE_HOURS}")
    if campaign.closes_at is not None and not problems:
        problems.extend(_deadline_problems(policy, campaign, now))
    if problems:
        raise PolicyError(problems)


def _deadline_problems(policy: Policy, campaign: Campaign, now: datetime) -> list[str]:
    """Reminders that would fall after closing, measured from the launch (or now, for a draft)."""
    start = campaign.launched_at or campaign.opens_at or now
    closes = campaign.closes_at
    problems = []
    late = [day for day in policy.offsets_days if start + timedelta(days=day) >= closes]
    if late:
        days = ", ".join(str(day) for day in sorted(late))
        problems.append(
            f"reminders {days} days after the invitation fall after the campaign closes at "
            f"{closes.isoformat(timespec='minutes')}; use smaller offsets or a later closes_at"
        )
    if policy.last_chance_days is not None and closes - timedelta(days=policy.last_chance_days) <= start:
        problems.append(
            f"the last-chance reminder {policy.last_chance_days} days before closing would come before the invitation"
        )
    return problems


def policy_from_json(body: dict) -> Policy:
    """A Policy from a request body; missing fields take the defaults. PolicyError for bad types."""
    problems = []
    unknown = set(body) - {"offsets_days", "last_chance_days", "nudge_after_hours", "window", "timezone"}
    if unknown:
        problems.append(f"unknown field(s): {', '.join(sorted(unknown))}")
    policy = DEFAULT
    offsets = body.get("offsets_days", list(DEFAULT.offsets_days))
    if not isinstance(offsets, list) or not all(_is_int(day) for day in offsets):
        problems.append("offsets_days must be a list of whole days, e.g. [3, 7, 10]")
    else:
        policy = replace(policy, offsets_days=tuple(sorted(offsets)))
    for name in ("last_chance_days", "nudge_after_hours"):
        value = body.get(name, getattr(DEFAULT, name))
        if value is not None and not _is_int(value):
            problems.append(f"{name} must be a whole number or null")
        else:
            policy = replace(policy, **{name: value})
    timezone = body.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        problems.append("timezone must be an IANA name such as Europe/Oslo, or null")
    else:
        policy = replace(policy, timezone=timezone.strip() if timezone else None)
    window = body.get("window", {})
    if not isinstance(window, dict):
        problems.append("window must be an object: {start, end, weekdays}")
    else:
        try:
            policy = replace(policy, window=_window_from_json(window))
        except WindowError as error:
            problems.append(str(error))
    if problems:
        raise PolicyError(problems)
    return policy


def _window_from_json(body: dict) -> Window:
    start = parse_time(body.get("start", "09:00"), "window.start")
    end = parse_time(body.get("end", "20:00"), "window.end")
    weekdays = body.get("weekdays", sorted(DEFAULT.window.weekdays))
    if not isinstance(weekdays, list) or not all(_is_int(day) for day in weekdays):
        raise WindowError("window.weekdays must be a list of ISO weekdays, 1 (Monday) to 7 (Sunday)")
    return Window(start, end, frozenset(weekdays))


def policy_json(policy: Policy, campaign: Campaign) -> dict:
    return {
        "offsets_days": list(policy.offsets_days),
        "last_chance_days": policy.last_chance_days,
        "nudge_after_hours": policy.nudge_after_hours,
        "window": {
            "start": format_time(policy.window.start),
            "end": format_time(policy.window.end),
            "weekdays": sorted(policy.window.weekdays),
        },
        "timezone": policy.zone_name(campaign),
    }


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
