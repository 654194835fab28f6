"""Delivery reports from providers, applied to outbox rows and invitations, forward only."""
import logging
from datetime import datetime

from sqlalchemy import select

from . import optouts
from ..models import Campaign
from ..models import Invitation
from ..models import OutboxMessage

log = logging.getLogger(__name__)

# Earlier reports (queued, sending, sent) say no more than the "sent" the
# send worker wrote when Twilio accepted the message, so only these count.
DELIVERED = {"delivered", "read"}
FAILED = {"failed": "failed", "undelivered": "undelivered", "canceled": "failed"}
# Nothing moves a row out of these.
FINAL = {"delivered", "failed", "undelivered"}
UNSUBSCRIBED = "21610"
# Rows a status callback may name by reference: the send worker never recorded them as sent.
UNCONFIRMED = ("pending", "sending")


def record_status(
    session, provider_id: str, status: str, error_code: str | None, now: datetime, reference: str | None = None,
    recipient_hash: str | None = None,
) -> str | None:
    """Apply one status report; returns the outbox status it set, or None if it changed nothing.

    `recipient_hash` is the keyed hash of the report's To, for an opt-out
    whose row is gone: a conversation's replies are deleted once it ends (A1).
    """
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == provider_id).with_for_update())
    if row is None and reference:
        row = _adopt(session, provider_id, reference, now)
    if error_code == UNSUBSCRIBED and (row is None or not _opt_out(session, row)):
        _opt_out_recipient(session, recipient_hash)
    if row is None:
        # Not ours, or already purged: acknowledge so the provider stops asking.
        return None
    status = (status or "").lower()
    if row.status in FINAL:
        return None
    if status in FAILED:
        row.status = FAILED[status]
        row.error_code = error_code
        row.error_message = f"provider reported {status}"
        row.updated_at = now
        _invitation_failed(session, row)
        return row.status
    if status in DELIVERED:
        row.status = "delivered"
        row.updated_at = now
        _invitation_delivered(session, row, now)
        return row.status
    return None


def _adopt(session, provider_id, reference, now) -> OutboxMessage | None:
    """The row named by ?ref= if the provider has it but we never heard: it counts as sent from now.

    That happens when the send worker died, or timed out, after Twilio
    accepted the message; the outbox sweeper then leaves the row alone.
    """
    if not (reference.isascii() and reference.isdigit()):
        return None
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == int(reference)).with_for_update())
    if row is None or row.status not in UNCONFIRMED or row.channel != "sms":
        # Already sent under another SID: this report is for a second copy.
        return None
    log.info("outbox %s: accepted by the provider, recorded from its status callback", row.id)
    row.status = "sent"
    row.provider_id = provider_id
    row.sent_at = now
    row.updated_at = now
    row.error_code = row.error_message = None
    # The provider has the message: body and address are no longer needed (A4, A5).
    row.body = None
    row.address_enc = None
    row.question_id = row.options = None
    invitation = _invitation_of(session, row)
    if invitation is not None and invitation.status == "created":
        invitation.status = "invited"
        invitation.invited_at = now
    return row


def _invitation_delivered(session, row, now):
    invitation = _invitation_of(session, row)
    if invitation is not None and invitation.status == "invited":
        invitation.status = "delivered"
        invitation.delivered_at = now


def _invitation_failed(session, row):
    invitation = _invitation_of(session, row)
    if invitation is not None and invitation.status in ("created", "invited"):
        invitation.status = "failed"


def _invitation_of(session, row) -> Invitation | None:
    if row.kind != "invitation" or row.invitation_id is None:
        return None
    return session.get(Invitation, row.invitation_id)


def _opt_out(session, row) -> bool:
    """The recipient blocked us at the carrier: stop every open invitation to them; False if the row names nobody."""
    # The address itself is erased after sending; only an invitation keeps its hash.
    invitation = session.get(Invitation, row.invitation_id) if row.invitation_id is not None else None
    if invitation is None or not invitation.address_hash:
        return False
    campaign = session.get(Campaign, invitation.campaign_id)
    optouts.opt_out(session, campaign.organisation_id, invitation.address_hash)
    return True


def _opt_out_recipient(session, recipient_hash: str | None):
    """The blocked recipient by the hash of their number, in every organisation that invited it.

    Error 21610 means the carrier blocks everything from our sending number
    to them, so whichever organisation sent this message, none reaches them
    any more; marking all of them spares the sends that would fail.
    """
    organisations = session.scalars(
        select(Campaign.organisation_id).join(Invitation, Invitation.campaign_id == Campaign.id)
        .where(Invitation.address_hash == recipient_hash).distinct()
    ).all() if recipient_hash else []
    if not organisations:
        log.warning("opt-out reported for a message we no longer hold, to an address no invitation has; not recorded")
    for organisation_id in organisations:
        optouts.opt_out(session, organisation_id, recipient_hash)
