"""Progress over time counted per unit in SQL: what the progress page's chart and a progress snapshot need."""
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import type_coerce

from ..models import Campaign
from ..models import Invitation
from ..models import OutboxMessage
from ..models import UTCDateTime

# Statuses of an outbox row that never reached the phone.
FAILED = ("failed", "undelivered")


def daily_counts(session, campaign: Campaign, zone: str) -> dict:
    """Per unit: {"invited": {day: n}, "completed": {day: n}} by local day, days before launch on launch day."""
    if campaign.launched_at is None:
        return {}
    tz = ZoneInfo(zone)
    first = campaign.launched_at.astimezone(tz).date()
    issued = (Invitation.campaign_id == campaign.id, Invitation.invited_at.is_not(None))
    invited = _per_unit_day(session, Invitation.invited_at, lambda query: query.where(*issued), tz, first)
    completed = _per_unit_day(
        session, Invitation.completed_at, lambda query: query.where(*issued, Invitation.completed_at.is_not(None)), tz, first
    )
    return {
        unit_id: {"invited": invited.get(unit_id, {}), "completed": completed.get(unit_id, {})}
        for unit_id in set(invited) | set(completed)
    }


def reminder_counts(session, campaign: Campaign, zone: str) -> dict:
    """Per unit: {day: reminder messages} by the local day they went out (or were queued)."""
    if campaign.launched_at is None:
        return {}
    moment = func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    return _per_unit_day(
        session, moment,
        lambda query: query.join(OutboxMessage, Invitation.id == OutboxMessage.invitation_id)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.kind == "reminder"),
        ZoneInfo(zone), None,
    )


def failure_counts(session, campaign: Campaign) -> dict:
    """Per unit: {error code: messages} of invitations and reminders that did not arrive.

    A message without a code is counted as "undelivered" when the operator
    reported it so (Twilio's status callback without an ErrorCode), else "unknown".
    """
    rows = session.execute(
        select(Invitation.unit_id, OutboxMessage.error_code, OutboxMessage.status, func.count())
        .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.status.in_(FAILED),
            OutboxMessage.kind.in_(("invitation", "reminder")),
        )
        .group_by(Invitation.unit_id, OutboxMessage.error_code, OutboxMessage.status)
    ).all()
    per_unit: dict = {}
    for unit_id, code, status, count in rows:
        codes = per_unit.setdefault(unit_id, {})
        reason = code or ("undelivered" if status == "undelivered" else "unknown")
        codes[reason] = codes.get(reason, 0) + count
    return per_unit


def _per_unit_day(session, moment, narrow, tz: ZoneInfo, first: date | None) -> dict:
    """{unit_id: {local day: rows}} of the rows `narrow` selects, by `moment`; days before `first` count on `first`.

    Grouped by UTC hour in SQL: an hour lies within one local day wherever
    the offset is whole hours. Where it is not (e.g. +05:30), each moment is
    counted by itself, as exact as before.
    """
    hour = type_coerce(_utc_hour(session, moment), UTCDateTime)
    rows = session.execute(narrow(select(Invitation.unit_id, hour, func.count())).group_by(Invitation.unit_id, hour)).all()
    if not all(_starts_local_hour(at, tz) for _unit, at, _count in rows):
        exact = type_coerce(moment, UTCDateTime)
        rows = session.execute(narrow(select(Invitation.unit_id, exact, func.count())).group_by(Invitation.unit_id, exact)).all()
    per_unit: dict = {}
    for unit_id, at, count in rows:
        day = at.astimezone(tz).date()
        if first is not None:
            day = max(day, first)
        days = per_unit.setdefault(unit_id, {})
        days[day] = days.get(day, 0) + count
    return per_unit


def _utc_hour(session, moment):
    if session.bind.dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", moment))
    return func.strftime("%Y-%m-%d %H:00:00", moment)


def _starts_local_hour(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz)
    return local.minute == 0 and local.second == 0
