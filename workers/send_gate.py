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

from service.models import Campaign
from service.models import Invitation
from service.models import OptOut
from service.quiet_hours import is_open
from service.quiet_hours import window_end
from service.reminders import CampaignContext
from workers.rate_limit import send_rate

# Invitation statuses for which an unasked-for message is still wanted.
STILL_WANTED = ("created", "invited", "delivered", "started")


@dataclass(frozen=True)
class Verdict:
    """Exactly one of: refused (error code, reason), held until a time, or allowed (maybe until a window end)."""

    refused: tuple[str, str] | None = None
    hold_until: datetime | None = None
    window_closes: datetime | None = None


def check_unsolicited(session, row, now: datetime) -> Verdict:
    """An invitation or reminder: is it still wanted, and may it go now?"""
    invitation = session.get(Invitation, row.invitation_id) if row.invitation_id else None
    campaign_id = row.campaign_id or (invitation.campaign_id if invitation is not None else None)
    campaign = session.get(Campaign, campaign_id) if campaign_id else None
    if invitation is not None:
        if invitation.status == "opted_out" or _opted_out(session, campaign, invitation):
            return Verdict(refused=("opted_out", "recipient opted out before sending"))
        if invitation.status == "completed":
            return Verdict(refused=("completed", "recipient completed before sending"))
        if invitation.status not in STILL_WANTED:
            return Verdict(refused=(invitation.status, f"invitation is {invitation.status}"))
    if campaign is None:
        return Verdict()
    if campaign.status != "open" or (campaign.closes_at is not None and now >= campaign.closes_at):
        return Verdict(refused=("campaign_closed", "the campaign closed before sending"))
    context = CampaignContext.load(session, campaign)
    if not is_open(now, context.policy.window, context.tz):
        return Verdict(hold_until=context.next_allowed(now))
    return Verdict(window_closes=window_end(now, context.policy.window, context.tz))


def _opted_out(session, campaign, invitation) -> bool:
    if campaign is None or not invitation.address_hash:
        return False
    return session.get(OptOut, (campaign.organisation_id, invitation.address_hash)) is not None


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
