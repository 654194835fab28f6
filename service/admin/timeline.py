"""Progress over time and in detail: daily response rate, reminder days, delivery failures."""
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from zoneinfo import ZoneInfo

from ..models import Campaign
from ..models import utcnow
from ..progress.counts import daily_counts
from ..progress.counts import failure_counts
from ..progress.counts import reminder_counts


@dataclass(frozen=True)
class Day:
    day: date
    invited: int
    completed: int

    @property
    def rate(self) -> float:
        return self.completed / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Marker:
    day: date
    kind: str  # invitation | reminder
    number: int  # 0 for the invitation, 1.. for reminders
    messages: int


def daily_rates(session, campaign: Campaign, scope, zone: str, today: date | None = None) -> list[Day]:
    """Cumulative invited and completed at the end of each local day since launch."""
    return rates(campaign, daily_counts(session, campaign, zone), scope, zone, today)


def reminder_markers(session, campaign: Campaign, scope, zone: str) -> list[Marker]:
    """The invitation day, then each day reminders went out (numbered in order)."""
    return markers(campaign, reminder_counts(session, campaign, zone), scope, zone)


def delivery_failures(session, campaign: Campaign, scope) -> list[tuple[str, int]]:
    """(error code, messages) for invitations and reminders that did not arrive; never numbers."""
    return failures(failure_counts(session, campaign), scope)


# --- from the counts to what the page shows, for the units in scope ---------


def rates(campaign: Campaign, per_unit: dict, scope, zone: str, today: date | None = None) -> list[Day]:
    """Cumulative invited and completed at the end of each local day since launch, over the units in scope."""
    if campaign.launched_at is None:
        return []
    tz = ZoneInfo(zone)
    first = campaign.launched_at.astimezone(tz).date()
    end = (campaign.closed_at or utcnow()).astimezone(tz).date()
    if today is not None:
        end = min(end, today)
    invited_on = _sum_in_scope({unit: counts["invited"] for unit, counts in per_unit.items()}, scope)
    completed_on = _sum_in_scope({unit: counts["completed"] for unit, counts in per_unit.items()}, scope)
    days, invited, completed = [], 0, 0
    current = first
    while current <= max(end, first):
        invited += invited_on.get(current, 0)
        completed += completed_on.get(current, 0)
        days.append(Day(current, invited, completed))
        current += timedelta(days=1)
    return days


def markers(campaign: Campaign, per_unit: dict, scope, zone: str) -> list[Marker]:
    """The invitation day, then each day reminders to the units in scope went out (numbered in order)."""
    if campaign.launched_at is None:
        return []
    found = [Marker(campaign.launched_at.astimezone(ZoneInfo(zone)).date(), "invitation", 0, 0)]
    per_day = _sum_in_scope(per_unit, scope)
    for number, key in enumerate(sorted(per_day), start=1):
        found.append(Marker(key, "reminder", number, per_day[key]))
    return found


def failures(per_unit: dict, scope) -> list[tuple[str, int]]:
    """(error code, messages) over the units in scope, most first."""
    per_code = _sum_in_scope(per_unit, scope)
    return sorted(per_code.items(), key=lambda row: (-row[1], row[0]))


def _sum_in_scope(per_unit: dict, scope) -> dict:
    total: dict = {}
    for unit_id, counts in per_unit.items():
        if scope is None or unit_id in scope:
            for key, count in counts.items():
                total[key] = total.get(key, 0) + count
    return total
