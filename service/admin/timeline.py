"""Progress over time and in detail: daily response rate, reminder days, delivery failures."""
from dataclasses import dataclass
from datetime import date
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select

from ..models import Campaign
from ..models import Invitation
from ..models import OutboxMessage
from ..models import utcnow

# Statuses of an outbox row that never reached the phone.
FAILED = ("failed", "undelivered")


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


def _in_scope(query, scope):
    return query if scope is None else query.where(Invitation.unit_id.in_(scope or [-1]))


def daily_rates(session, campaign: Campaign, scope, zone: str, today: date | None = None) -> list[Day]:
    """Cumulative invited and completed at the end of each local day since launch."""
    if campaign.launched_at is None:
        return []
    tz = ZoneInfo(zone)
    rows = session.execute(
        _in_scope(
            select(Invitation.invited_at, Invitation.completed_at).where(
                Invitation.campaign_id == campaign.id, Invitation.invited_at.is_not(None)
            ),
            scope,
        )
    ).all()
    first = campaign.launched_at.astimezone(tz).date()
    end = (campaign.closed_at or utcnow()).astimezone(tz).date()
    if today is not None:
        end = min(end, today)
    invited_on: dict[date, int] = {}
    completed_on: dict[date, int] = {}
    for invited_at, completed_at in rows:
        key = max(invited_at.astimezone(tz).date(), first)
        invited_on[key] = invited_on.get(key, 0) + 1
        if completed_at is not None:
            done = max(completed_at.astimezone(tz).date(), first)
            completed_on[done] = completed_on.get(done, 0) + 1
    days, invited, completed = [], 0, 0
    current = first
    while current <= max(end, first):
        invited += invited_on.get(current, 0)
        completed += completed_on.get(current, 0)
        days.append(Day(current, invited, completed))
        current += timedelta(days=1)
    return days


def reminder_markers(session, campaign: Campaign, scope, zone: str) -> list[Marker]:
    """The invitation day, then each day reminders went out (numbered in order)."""
    if campaign.launched_at is None:
        return []
    tz = ZoneInfo(zone)
    markers = [Marker(campaign.launched_at.astimezone(tz).date(), "invitation", 0, 0)]
    sent = session.execute(
        _in_scope(
            select(func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at))
            .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
            .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.kind == "reminder"),
            scope,
        )
    ).scalars()
    per_day: dict[date, int] = {}
    for moment in sent:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        key = moment.astimezone(tz).date()
        per_day[key] = per_day.get(key, 0) + 1
    for number, key in enumerate(sorted(per_day), start=1):
        markers.append(Marker(key, "reminder", number, per_day[key]))
    return markers


def delivery_failures(session, campaign: Campaign, scope) -> list[tuple[str, int]]:
    """(error code, messages) for invitations and reminders that did not arrive; never numbers."""
    rows = session.execute(
        _in_scope(
            select(OutboxMessage.error_code, func.count())
            .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
            .where(
                OutboxMessage.campaign_id == campaign.id,
                OutboxMessage.status.in_(FAILED),
                OutboxMessage.kind.in_(("invitation", "reminder")),
            )
            .group_by(OutboxMessage.error_code),
            scope,
        )
    ).all()
    return sorted(((code or "unknown", count) for code, count in rows), key=lambda row: (-row[1], row[0]))


