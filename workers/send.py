"""The send job: outbox ids in, messages out through their channel; idempotent, retried by RQ.

One job holds one database connection, and each message costs one short
transaction: it records the previous message as sent (Twilio accepted it)
and claims this one. So a worker killed at any point has recorded every
message the provider confirmed to it, and has claimed at most the one in
flight: the rest of its batch stays pending.
"""
import logging
import math
from datetime import datetime
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import select

from service import db
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
from workers import send_rows

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
    with _Job(runtime, now) as job:
        for position, outbox_id in enumerate(outbox_ids):
            outcomes[outbox_id], retry_after = job.send(outbox_id)
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
    with _Job(runtime, None) as job:
        return job.send(outbox_id)[0]


def _claim(runtime, outbox_id: int, now: datetime | None = None):
    """Claim one row in its own transaction and stop there: what a worker that dies next leaves behind."""
    with _Job(runtime, now) as job, job.connection.begin():
        return job._claim(outbox_id, now or utcnow())


def warm_up(runtime):
    """Run the job's statements once on no rows and close the connection: forked work horses inherit them compiled.

    SQLAlchemy compiles a statement once per engine; a work horse that made
    its own engine would compile them again for every job. Nothing stays
    connected, so no connection is shared across the fork.
    """
    config = runtime.config
    engine = db.engine_for(config.database_url, config.db_lock_timeout)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            now = utcnow()
            send_rows.claim(connection, 0, now)
            send_rows.hold(connection, 0, now, now)
            send_rows.close(connection, 0, "failed", None, None, now)
            send_rows.record_sent(connection, 0, "", now)
            send_rows.record_sent(connection, 0, "", now, invitation_id=0)
            # The send gate's campaign context (ORM loads), on any campaign there is.
            campaign_id = connection.execute(select(Campaign.id).limit(1)).scalar()
            if campaign_id is not None:
                send_gate.load_context(connection, campaign_id)
            transaction.rollback()
    finally:
        # The pool's connections belong to this process; work horses open their own.
        engine.dispose()


class _Job:
    """One send job's connection, the campaigns it has looked up, and the send not yet recorded."""

    def __init__(self, runtime, now: datetime | None):
        self.runtime = runtime
        self.now = now
        self.contexts = {}
        # (outbox id, provider id, moment, invitation id to mark invited): accepted by the provider, recorded with the next claim.
        self.accepted = None
        self.connection = None

    def __enter__(self):
        config = self.runtime.config
        self.connection = db.engine_for(config.database_url, config.db_lock_timeout).connect()
        return self

    def __exit__(self, *_exc):
        try:
            if self.accepted is not None:
                # The last message of the job, or one whose next claim failed.
                with self.connection.begin():
                    send_rows.record_sent(self.connection, *self.accepted)
                self.accepted = None
        finally:
            self.connection.close()

    def send(self, outbox_id: int) -> tuple[str, float | None]:
        """What happened, and the provider's retry_after in seconds when it deferred us with one."""
        with self.connection.begin():
            if self.accepted is not None:
                send_rows.record_sent(self.connection, *self.accepted)
            claimed = self._claim(outbox_id, self.now or utcnow())
        # Committed: forgotten only now, so a failed claim leaves it for __exit__ to record.
        self.accepted = None
        if isinstance(claimed, str):
            return claimed, None
        channel_name, message, invited = claimed
        try:
            provider_id = channel_for(channel_name, self.runtime).send(message)
        except OutcomeUnknown as exc:
            # Left in "sending": a status callback marks it sent, else the outbox
            # sweeper sends it again after the grace period.
            log.warning("outbox %s: no answer from the provider; waiting for its status callback", outbox_id)
            _touch(self.runtime, outbox_id, exc)
            return DEFERRED, None
        except TemporaryFailure as exc:
            log.warning("outbox %s deferred: %s", outbox_id, exc.code or type(exc).__name__)
            _release(self.runtime, outbox_id, exc)
            return DEFERRED, exc.retry_after
        except RecipientOptedOut as exc:
            log.info("outbox %s: recipient opted out at the provider", outbox_id)
            _fail(self.runtime, outbox_id, exc, opted_out_address=message.address)
            return FAILED, None
        except PermanentFailure as exc:
            log.warning("outbox %s failed: %s", outbox_id, exc.code or type(exc).__name__)
            _fail(self.runtime, outbox_id, exc)
            return FAILED, None
        except Exception as exc:
            # A bug or an unforeseen client error: keep the row for a later try.
            log.error("outbox %s: unexpected %s from the %s channel", outbox_id, type(exc).__name__, channel_name)
            _release(self.runtime, outbox_id, exc)
            return DEFERRED, None
        self.accepted = (outbox_id, provider_id, utcnow(), invited)
        return SENT, None

    def _claim(self, outbox_id, now):
        """pending -> sending; the message to send, or why not (the row is settled for that reason)."""
        row = send_rows.claim(self.connection, outbox_id, now)
        if row is None:
            # Sent, failed, taken by another worker, or held till later: nothing to do now.
            return SKIPPED
        window_closes = None
        if row.kind in UNSOLICITED:
            verdict = send_gate.check_unsolicited(self.connection, row, now, self.contexts)
            if verdict.refused:
                send_rows.close(self.connection, outbox_id, "failed", *verdict.refused, now)
                return FAILED
            if verdict.hold_until:
                send_rows.hold(self.connection, outbox_id, verdict.hold_until, now)
                return WAITING
            window_closes = verdict.window_closes
        try:
            address = self.runtime.vault.decrypt(row.address_enc or "")
        except (InvalidToken, ValueError):
            send_rows.close(self.connection, outbox_id, "failed", "address", "address missing or not decryptable", now)
            return FAILED
        if not row.body:
            send_rows.close(self.connection, outbox_id, "failed", "body", "nothing to send", now)
            return FAILED
        room = send_gate.pace(self.runtime, row, now, window_closes)
        if room is not None:
            send_rows.hold(self.connection, outbox_id, room, now)
            return HELD
        options = tuple(dict(option) for option in row.options or ())
        message = OutgoingMessage(
            address=address, text=row.body, options=options, question_id=row.question_id, kind=row.kind, reference=str(row.id)
        )
        # An invitation message, once sent, makes its invitation "invited".
        invited = row.invitation_id if row.kind == "invitation" else None
        return row.channel, message, invited


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
        for name, value in send_rows.closing("failed", exc.code, str(exc), now).items():
            setattr(row, name, value)
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
