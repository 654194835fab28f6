"""The send job: outbox ids in, messages out through their channel; idempotent, retried by RQ."""
import logging
import math
from datetime import datetime
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import or_
from sqlalchemy import update

from service import optouts
from service import runtime as runtimes
from service.channels import channel_for
from service.channels.base import OutcomeUnknown
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
from workers import send_gate

log = logging.getLogger(__name__)

SENT = "sent"
SKIPPED = "skipped"
# Outside the sending window: pending with not_before, the rest of the batch goes on.
WAITING = "waiting"
# The provider's queue is full: pending with not_before, the rest of the batch waits too.
HELD = "held"
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


def send_outbox(outbox_ids: list[int], now: datetime | None = None) -> dict:
    """Send each pending row once; raise SendDeferred if any must be tried again."""
    runtime = runtimes.current()
    outcomes = {}
    retry_after = None
    for position, outbox_id in enumerate(outbox_ids):
        outcomes[outbox_id], retry_after = _send_one(runtime, outbox_id, now)
        if outcomes[outbox_id] == HELD:
            # The provider's queue is full: the rest stays pending, untouched,
            # and the outbox sweeper brings it back as the queue drains.
            break
        if outcomes[outbox_id] == DEFERRED:
            # The provider is throttling or down: the rest of the batch stays
            # pending for the retry instead of hammering it now.
            for rest in outbox_ids[position + 1 :]:
                outcomes[rest] = DEFERRED
            break
    deferred = [outbox_id for outbox_id, outcome in outcomes.items() if outcome == DEFERRED]
    summary = {outcome: sum(1 for o in outcomes.values() if o == outcome) for outcome in set(outcomes.values())}
    if deferred and retry_after:
        # The provider said how long to wait (Telegram's 429): come back exactly
        # then, not after RQ's fixed intervals. Needs a worker --with-scheduler.
        delay = timedelta(seconds=math.ceil(retry_after))
        runtime.queue(SEND_QUEUE).enqueue_in(delay, send_outbox, deferred, retry=SEND_RETRY)
        return summary
    if deferred:
        raise SendDeferred(f"{len(deferred)} of {len(outbox_ids)} messages deferred")
    return summary


def send_one(runtime, outbox_id: int) -> str:
    """Claim, send outside any transaction, then record; returns what happened."""
    return _send_one(runtime, outbox_id)[0]


def _send_one(runtime, outbox_id: int, now: datetime | None = None) -> tuple[str, float | None]:
    """What happened, and the provider's retry_after in seconds when it deferred us with one."""
    claimed = _claim(runtime, outbox_id, now)
    if isinstance(claimed, str):
        return claimed, None
    channel_name, message = claimed
    try:
        provider_id = channel_for(channel_name, runtime).send(message)
    except OutcomeUnknown as exc:
        # Left in "sending": a status callback marks it sent, else the outbox
        # sweeper sends it again after the grace period.
        log.warning("outbox %s: no answer from the provider; waiting for its status callback", outbox_id)
        _touch(runtime, outbox_id, exc)
        return DEFERRED, None
    except TemporaryFailure as exc:
        log.warning("outbox %s deferred: %s", outbox_id, exc.code or type(exc).__name__)
        _release(runtime, outbox_id, exc)
        return DEFERRED, exc.retry_after
    except RecipientOptedOut as exc:
        log.info("outbox %s: recipient opted out at the provider", outbox_id)
        _fail(runtime, outbox_id, exc, opted_out_address=message.address)
        return FAILED, None
    except PermanentFailure as exc:
        log.warning("outbox %s failed: %s", outbox_id, exc.code or type(exc).__name__)
        _fail(runtime, outbox_id, exc)
        return FAILED, None
    except Exception as exc:
        # A bug or an unforeseen client error: keep the row for a later try.
        log.error("outbox %s: unexpected %s from the %s channel", outbox_id, type(exc).__name__, channel_name)
        _release(runtime, outbox_id, exc)
        return DEFERRED, None
    _mark_sent(runtime, outbox_id, provider_id)
    return SENT, None


def _claim(runtime, outbox_id, now=None):
    """pending -> sending in one short transaction; the message to send, or why not."""
    now = now or utcnow()
    with runtime.transaction() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                OutboxMessage.status == "pending",
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=now)
        ).rowcount
        if claimed != 1:
            # Sent, failed, taken by another worker, or held till later: nothing to do now.
            return SKIPPED
        row = session.get(OutboxMessage, outbox_id)
        window_closes = None
        if row.kind in UNSOLICITED:
            verdict = send_gate.check_unsolicited(session, row, now)
            if verdict.refused:
                _close(row, "failed", *verdict.refused, now)
                return FAILED
            if verdict.hold_until:
                _hold(row, verdict.hold_until, now)
                return WAITING
            window_closes = verdict.window_closes
        try:
            address = runtime.vault.decrypt(row.address_enc or "")
        except (InvalidToken, ValueError):
            _close(row, "failed", "address", "address missing or not decryptable", now)
            return FAILED
        if not row.body:
            _close(row, "failed", "body", "nothing to send", now)
            return FAILED
        options = tuple(dict(option) for option in row.options or ())
        room = send_gate.pace(runtime, row, now, window_closes)
        if room is not None:
            _hold(row, room, now)
            return HELD
        message = OutgoingMessage(
            address=address, text=row.body, options=options, question_id=row.question_id, kind=row.kind, reference=str(row.id)
        )
        return row.channel, message


def _hold(row, until, now):
    """Back to pending until `until`: a hold is no attempt, and body and address stay."""
    row.status = "pending"
    row.attempts -= 1
    row.not_before = until
    row.updated_at = now


def _release(runtime, outbox_id, exc):
    """Back to pending for the retry; body and address stay."""
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        row.status = "pending"
        row.error_code = getattr(exc, "code", None)
        row.error_message = str(exc)[:500] if isinstance(exc, TemporaryFailure) else type(exc).__name__
        row.updated_at = utcnow()


def _touch(runtime, outbox_id, exc):
    """Still "sending", from now: the sweeper's grace period starts again."""
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row.status == "sending":
            row.error_message = str(exc)[:500]
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
        if row.status not in ("pending", "sending"):
            # Its status callback came first (delivery.py reconciles by ?ref=):
            # statuses only move forward, so "delivered" stays.
            row.provider_id = row.provider_id or provider_id
            return
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
