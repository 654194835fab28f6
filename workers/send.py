"""The send job: outbox ids in, messages out through their channel; idempotent, retried by RQ."""
import logging

from cryptography.fernet import InvalidToken
from sqlalchemy import update

from service import optouts
from service import runtime as runtimes
from service.channels import channel_for
from service.channels.base import OutgoingMessage
from service.channels.base import PermanentFailure
from service.channels.base import RecipientOptedOut
from service.channels.base import TemporaryFailure
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.queue import SEND_QUEUE
from service.queue import SEND_RETRY
from service.queue import after_commit

log = logging.getLogger(__name__)

SENT = "sent"
SKIPPED = "skipped"
DEFERRED = "deferred"
FAILED = "failed"
# Kinds that must not reach someone who opted out after they were queued;
# a reply (the STOP confirmation itself) still goes.
UNSOLICITED = ("invitation", "reminder")


class SendDeferred(Exception):
    """Some messages of the batch met a temporary failure; raised so RQ retries the job."""


def enqueue_send(session, outbox_ids: list[int]):
    """Queue send jobs for these outbox ids once the session commits, send_batch ids per job."""
    runtime = session.info.get("runtime") or runtimes.current()
    size = max(1, runtime.config.send_batch)
    ids = list(outbox_ids)
    for start in range(0, len(ids), size):
        after_commit(session, send_outbox, ids[start : start + size], queue=SEND_QUEUE, retry=SEND_RETRY)


def send_outbox(outbox_ids: list[int]) -> dict:
    """Send each pending row once; raise SendDeferred if any must be tried again."""
    runtime = runtimes.current()
    outcomes = {}
    for position, outbox_id in enumerate(outbox_ids):
        outcomes[outbox_id] = send_one(runtime, outbox_id)
        if outcomes[outbox_id] == DEFERRED:
            # The provider is throttling or down: the rest of the batch stays
            # pending for the retry instead of hammering it now.
            for rest in outbox_ids[position + 1 :]:
                outcomes[rest] = DEFERRED
            break
    deferred = sum(1 for outcome in outcomes.values() if outcome == DEFERRED)
    if deferred:
        raise SendDeferred(f"{deferred} of {len(outbox_ids)} messages deferred")
    return {outcome: sum(1 for o in outcomes.values() if o == outcome) for outcome in set(outcomes.values())}


def send_one(runtime, outbox_id: int) -> str:
    """Claim, send outside any transaction, then record; returns what happened."""
    claimed = _claim(runtime, outbox_id)
    if isinstance(claimed, str):
        return claimed
    channel_name, message = claimed
    try:
        provider_id = channel_for(channel_name, runtime).send(message)
    except TemporaryFailure as exc:
        log.warning("outbox %s deferred: %s", outbox_id, exc.code or type(exc).__name__)
        _release(runtime, outbox_id, exc)
        return DEFERRED
    except RecipientOptedOut as exc:
        log.info("outbox %s: recipient opted out at the provider", outbox_id)
        _fail(runtime, outbox_id, exc, opted_out_address=message.address)
        return FAILED
    except PermanentFailure as exc:
        log.warning("outbox %s failed: %s", outbox_id, exc.code or type(exc).__name__)
        _fail(runtime, outbox_id, exc)
        return FAILED
    except Exception as exc:
        # A bug or an unforeseen client error: keep the row for a later try.
        log.error("outbox %s: unexpected %s from the %s channel", outbox_id, type(exc).__name__, channel_name)
        _release(runtime, outbox_id, exc)
        return DEFERRED
    _mark_sent(runtime, outbox_id, provider_id)
    return SENT


def _claim(runtime, outbox_id):
    """pending -> sending in one short transaction; the message to send, or why not."""
    now = utcnow()
    with runtime.transaction() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "pending")
            .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=now)
        ).rowcount
        if claimed != 1:
            # Sent, failed or taken by another worker already: nothing to do.
            return SKIPPED
        row = session.get(OutboxMessage, outbox_id)
        if row.kind in UNSOLICITED and _opted_out(session, row):
            _close(row, "failed", "opted_out", "recipient opted out before sending", now)
            return FAILED
        try:
            address = runtime.vault.decrypt(row.address_enc or "")
        except (InvalidToken, ValueError):
            _close(row, "failed", "address", "address missing or not decryptable", now)
            return FAILED
        if not row.body:
            _close(row, "failed", "body", "nothing to send", now)
            return FAILED
        options = tuple(dict(option) for option in row.options or ())
        return row.channel, OutgoingMessage(address=address, text=row.body, options=options)


def _opted_out(session, row) -> bool:
    invitation = session.get(Invitation, row.invitation_id) if row.invitation_id else None
    return invitation is not None and invitation.status == "opted_out"


def _release(runtime, outbox_id, exc):
    """Back to pending for the retry; body and address stay."""
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        row.status = "pending"
        row.error_code = getattr(exc, "code", None)
        row.error_message = str(exc)[:500] if isinstance(exc, TemporaryFailure) else type(exc).__name__
        row.updated_at = utcnow()


def _fail(runtime, outbox_id, exc, opted_out_address=None):
    now = utcnow()
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        _close(row, "failed", exc.code, str(exc), now)
        invitation = session.get(Invitation, row.invitation_id) if row.invitation_id else None
        if row.kind == "invitation" and invitation is not None and invitation.status in ("created", "invited"):
            invitation.status = "failed"
        if opted_out_address is not None:
            _opt_out(session, runtime, row, invitation, opted_out_address)


def _opt_out(session, runtime, row, invitation, address):
    campaign_id = row.campaign_id or (invitation.campaign_id if invitation is not None else None)
    campaign = session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        # Without a campaign there is no organisation to hold the opt-out.
        return
    address_hash = invitation.address_hash if invitation is not None and invitation.address_hash else None
    optouts.opt_out(session, campaign.organisation_id, address_hash or runtime.vault.address_hash(row.channel, address))


def _mark_sent(runtime, outbox_id, provider_id):
    now = utcnow()
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        _close(row, "sent", None, None, now)
        row.provider_id = provider_id
        row.sent_at = now
        if row.kind == "invitation" and row.invitation_id:
            invitation = session.get(Invitation, row.invitation_id)
            if invitation is not None and invitation.status == "created":
                invitation.status = "invited"
                invitation.invited_at = now


def _close(row, status, error_code, error_message, now):
    """Final for this attempt: the body and address are no longer needed, so they go (A4, A5)."""
    row.status = status
    row.error_code = error_code
    row.error_message = error_message[:500] if error_message else None
    row.body = None
    row.address_enc = None
    row.updated_at = now
