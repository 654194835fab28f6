"""Checks the send worker makes just before a message leaves: still wanted, allowed now, room at the provider.

An invitation or reminder is checked again here because a lot can happen
between writing it and sending it: the respondent completes or says STOP,
the campaign closes, the sending window shuts, or a wave fills the
provider's queue. What may never go is failed; what may go later is held
(pending, with not_before) for the outbox sweeper to bring back.
"""
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy.orm import Session

from service.models import OPEN_INVITATION
from service.models import Campaign
from service.reminders.quiet_hours import is_open
from service.reminders.quiet_hours import window_end
from service.reminders.sending import CampaignContext
from workers.rate_limit import send_rate



@dataclass(frozen=True)
class Verdict:
    """Exactly one of: refused (error code, reason), held until a time, or allowed (maybe until a window end)."""

    refused: tuple[str, str] | None = None
    hold_until: datetime | None = None
    window_closes: datetime | None = None


def check_unsolicited(connection, row, now: datetime, contexts: dict) -> Verdict:
    """An invitation or reminder: is it still wanted, and may it go now?

    `row` is the claimed row with the facts read with the claim (the
    invitation's status, an opt-out of its address, its campaign's status;
    see workers/send_rows.py GATE), so they are as fresh as the claim. The
    campaign's sending window comes from `contexts`, loaded once per
    campaign and job on `connection`.
    """
    if row.invitation_status is not None:
        if row.invitation_status == "opted_out" or row.opted_out:
            return Verdict(refused=("opted_out", "recipient opted out before sending"))
        if row.invitation_status == "completed":
            return Verdict(refused=("completed", "recipient completed before sending"))
        if row.invitation_status not in OPEN_INVITATION:
            return Verdict(refused=(row.invitation_status, f"invitation is {row.invitation_status}"))
    if row.gate_campaign_id is None:
        return Verdict()
    if row.campaign_status != "open" or (row.closes_at is not None and now >= row.closes_at):
        return Verdict(refused=("campaign_closed", "the campaign closed before sending"))
    context = contexts.get(row.gate_campaign_id)
    if context is None:
        context = contexts[row.gate_campaign_id] = load_context(connection, row.gate_campaign_id)
    if not is_open(now, context.policy.window, context.tz):
        return Verdict(hold_until=context.next_allowed(now))
    return Verdict(window_closes=window_end(now, context.policy.window, context.tz))


def load_context(connection, campaign_id: int) -> CampaignContext:
    """The campaign's policy and time zone, read in the job's transaction."""
    with Session(bind=connection) as session:
        return CampaignContext.load(session, session.get(Campaign, campaign_id))


def pace(runtime, row, now: datetime, window_closes: datetime | None) -> datetime | None:
    """Take the row's place in the provider's queue; None if it may go now, else when to try again.

    Replies always go (someone is waiting for them) but count; invitations
    and reminders wait once the provider's queue holds a full backlog, or
    when they would still be queued there when the sending window shuts.
    """
    limiter = send_rate(runtime, row.channel)
    if limiter is None:
        return None
    moment = now.timestamp()
    if row.kind not in ("invitation", "reminder"):
        limiter.admit(moment, force=True)
        return None
    max_delay = (window_closes - now).total_seconds() if window_closes is not None else None
    wait = limiter.admit(moment, max_delay=max_delay)
    if wait <= 0:
        return None
    return now + timedelta(seconds=wait)
