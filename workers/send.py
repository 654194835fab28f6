"""The send job: outbox ids in, messages out through their channel; idempotent, retried by RQ.

A job sends through a few lanes at once (threads, `send_concurrency`), so
the provider's answer time overlaps: one worker then keeps several messages
in flight instead of waiting for each. Each lane holds one database
connection and takes the job's ids one at a time. Each message costs two
short transactions: the claim, and the record of the provider's message id
as soon as the provider answers, before the lane does anything else. So a
worker killed at any point has recorded every message the provider
confirmed to it, and has claimed at most one message per lane in flight
(unsure: workers/unsure_sends.py); the rest of its batch stays pending.
"""
import logging
import math
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from service.outbox import code_slots
from service.infra import db
from service.dispatch import optouts
from service.infra import runtime as runtimes
from service.channels import channel_for
from service.channels.base import OutcomeUnknown
from service.channels.base import OutgoingMessage
from service.channels.base import PermanentFailure
from service.channels.base import RecipientOptedOut
from service.channels.base import SendError
from service.channels.base import TemporaryFailure
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from service.infra.queue import SEND_RETRY
from workers import send_gate
from workers import send_rows
from workers.send_lanes import DEFERRED
from workers.send_lanes import FAILED
from workers.send_lanes import HELD
from workers.send_lanes import RETRY
from workers.send_lanes import SENT
from workers.send_lanes import SKIPPED
from workers.send_lanes import WAITING
from workers.send_lanes import Feed
from workers.send_lanes import lane_count
from workers.send_lanes import run_lanes

log = logging.getLogger(__name__)

# Kinds that must not reach someone who opted out after they were queued;
# a reply (the STOP confirmation itself) still goes.
UNSOLICITED = ("invitation", "reminder")
# Channels whose client is not safe to share between threads (Telegram's runs one asyncio loop
# per process): their messages go one at a time per process, whatever the lanes.
_ONE_AT_A_TIME = {"telegram": threading.Lock(), "simulator": threading.Lock()}
# SQLite lets one writer in at a time anyway: the lanes of a process take turns at this lock
# before queuing at the database's file lock, where a wait costs a blocking flock() on a helper
# thread and two wake-ups (service/infra/sqlite_writer.py; 918 of 950 transactions waited there with four lanes).
_SQLITE_TURN = threading.Lock()
# Seconds a lane keeps trying to record a message the provider accepted while the database is down
# (a failover, a restart): past them the row is left "sending", and unsure (workers/unsure_sends.py).
RECORD_PATIENCE = 60


class SendDeferred(Exception):
    """Some messages of the batch met a temporary failure; raised so RQ retries the job."""


def send_outbox(outbox_ids: list[int], now: datetime | None = None) -> dict:
    """Send each pending row once; raise SendDeferred if any must be tried again."""
    runtime = runtimes.current()
    feed = Feed(outbox_ids)
    lanes = lane_count(runtime, len(feed.ids))
    if lanes <= 1:
        _lane(runtime, now, feed)
    else:
        run_lanes(feed, lanes, lambda lane_feed: _lane(runtime, now, lane_feed))
    outcomes, retry_after = feed.outcomes, feed.retry_after
    deferred = [outbox_id for outbox_id, outcome in outcomes.items() if outcome in (DEFERRED, RETRY)]
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


def _lane(runtime, now, feed: Feed):
    """Send ids from the feed one after the other on one connection."""
    outbox_id = feed.take()
    if outbox_id is None:
        return
    with _Job(runtime, now) as job:
        while outbox_id is not None:
            outcome, retry_after = job.send(outbox_id)
            feed.report(outbox_id, outcome, retry_after)
            outbox_id = feed.take()


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
    """One send job's connection and the campaigns it has looked up."""

    def __init__(self, runtime, now: datetime | None):
        self.runtime = runtime
        self.now = now
        self.contexts = {}
        self.connection = None
        self.autocommit = False

    def __enter__(self):
        self._connect()
        return self

    def _connect(self):
        config = self.runtime.config
        self.connection = db.engine_for(config.database_url, config.db_lock_timeout).connect()
        self.autocommit = send_rows.one_statement(self.connection)
        if self.autocommit:
            # Every write of the job is one atomic statement there: no BEGIN and COMMIT round trips.
            self.connection.execution_options(isolation_level="AUTOCOMMIT")
        self._turn = _SQLITE_TURN if self.connection.dialect.name == "sqlite" else None

    @contextmanager
    def _transaction(self):
        if self._turn is None:
            with self.connection.begin():
                yield
        else:
            with self._turn, self.connection.begin():
                yield

    def __exit__(self, *_exc):
        if self.connection is not None:
            self.connection.close()

    def send(self, outbox_id: int) -> tuple[str, float | None]:
        """What happened, and the provider's retry_after in seconds when it deferred us with one."""
        with self._transaction():
            claimed = self._claim(outbox_id, self.now or utcnow())
        if isinstance(claimed, str):
            return claimed, None
        channel_name, message, invited = claimed
        try:
            one_at_a_time = _ONE_AT_A_TIME.get(channel_name)
            if one_at_a_time is None:
                provider_id = channel_for(channel_name, self.runtime).send(message)
            else:
                with one_at_a_time:
                    provider_id = channel_for(channel_name, self.runtime).send(message)
        except OutcomeUnknown as exc:
            # Left in "sending": a status callback marks it sent, else the outbox
            # sweeper sends it again after the grace period.
            log.warning("outbox %s: no answer from the provider; waiting for its status callback", outbox_id)
            _touch(self.runtime, outbox_id, exc)
            return DEFERRED, None
        except TemporaryFailure as exc:
            log.warning("outbox %s deferred: %s", outbox_id, exc.code or type(exc).__name__)
            if _release(self.runtime, outbox_id, exc):
                return FAILED, None
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
            # It is this row's, not the provider's: the others of the batch go on.
            log.error("outbox %s: unexpected %s from the %s channel", outbox_id, type(exc).__name__, channel_name)
            if _release(self.runtime, outbox_id, exc):
                return FAILED, None
            return RETRY, None
        self._record(outbox_id, provider_id, utcnow(), invited)
        return SENT, None

    def _record(self, outbox_id, provider_id, now, invited):
        """The provider's id on the row, committed before anything else: a crash from here on leaves it known sent, not unsure.

        The database may be down at that moment: the id is only in this
        process, so the record is tried again with growing pauses for
        RECORD_PATIENCE seconds before the row is left unsure.
        """
        pauses = _record_pauses()
        while True:
            try:
                if self.connection is None:
                    self._connect()
                with self._transaction():
                    send_rows.record_sent(self.connection, outbox_id, provider_id, now, invitation_id=invited)
                return
            except DBAPIError as exc:
                pause = next(pauses, None)
                if pause is None:
                    log.error("outbox %s: sent, but its record failed for %ds (%s); left unsure", outbox_id, RECORD_PATIENCE, type(exc).__name__)
                    raise
                log.warning("outbox %s: sent, record failed (%s); trying again in %.1fs", outbox_id, type(exc).__name__, pause)
                time.sleep(pause)
                self._reconnect()

    def _reconnect(self):
        """Drop the connection the outage broke; the next try opens a new one."""
        if self.connection is not None:
            try:
                self.connection.close()
            except DBAPIError:
                pass
        self.connection = None

    def _claim(self, outbox_id, now):
        """pending -> sending; the message to send, or why not (the row is settled for that reason)."""
        row = send_rows.claim(self.connection, outbox_id, now)
        if row is None:
            # Sent, failed, taken by another worker, or held till later: nothing to do now.
            return SKIPPED
        try:
            return self._prepare(row, outbox_id, now)
        except Exception:
            if self.autocommit:
                # The claim is committed already (no transaction to roll back): put the row back,
                # or it would wait out the sweeper's sending grace (minutes) for a Redis blip.
                self._unclaim(outbox_id, now)
            raise

    def _unclaim(self, outbox_id, now):
        try:
            send_rows.hold(self.connection, outbox_id, None, now)
        except Exception as exc:
            log.warning("outbox %s: could not put back a claim (%s); the sweeper will", outbox_id, type(exc).__name__)

    def _prepare(self, row, outbox_id, now):
        """The claimed row past the gate, the address and the pace: the message, or why not."""
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
        text = _with_code(self.runtime, row)
        if text is None:
            send_rows.close(self.connection, outbox_id, "failed", "code", "the code was erased (completed, opted out or closed)", now)
            return FAILED
        room = send_gate.pace(self.runtime, row, now, window_closes)
        if room is not None:
            send_rows.hold(self.connection, outbox_id, room, now)
            return HELD
        options = tuple(dict(option) for option in row.options or ())
        message = OutgoingMessage(
            address=address, text=text, options=options, question_id=row.question_id, kind=row.kind, reference=str(row.id)
        )
        # An invitation message, once sent, makes its invitation "invited".
        invited = row.invitation_id if row.kind == "invitation" else None
        return row.channel, message, invited


def _with_code(runtime, row) -> str | None:
    """The body as it goes out, the invitation's code set in its slot: only in memory, never written back (A7)."""
    return code_slots.rendered(runtime.vault, row.kind, row.body, row.invitation_id, row.code_enc)


def _record_pauses():
    """Pauses between tries of a record: doubling from half a second, RECORD_PATIENCE seconds in all."""
    pause, spent = 0.5, 0.0
    while spent + pause <= RECORD_PATIENCE:
        yield pause
        spent += pause
        pause = min(pause * 2, 8.0)


def _release(runtime, outbox_id, exc) -> bool:
    """Back to pending for the retry, body and address kept; or failed with its reason once out of tries (True)."""
    code = getattr(exc, "code", None)
    reason = str(exc)[:400] if isinstance(exc, TemporaryFailure) else type(exc).__name__
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        attempts = row.attempts or 0
    if attempts >= max(1, runtime.config.send_max_attempts):
        log.warning("outbox %s failed after %d tries: %s", outbox_id, attempts, code or reason)
        _fail(runtime, outbox_id, SendError(f"gave up after {attempts} tries: {reason}", code or "attempts"))
        return True
    with runtime.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        row.status = "pending"
        row.error_code = code
        row.error_message = reason
        row.updated_at = utcnow()
    return False


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
