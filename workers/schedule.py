"""Sweepers run by rq cron: rebuild the send queue from the outbox, forget old receipts."""
import logging
from datetime import datetime
from datetime import timedelta

from rq.job import Job
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from service.infra import runtime as runtimes
from service.dispatch.campaigns import open_campaign
from service.dispatch.closing import close
from service.infra.db import engine_for
from service.dispatch.traces import checkpoint
from service.dispatch.traces import forget_conversation_rows
from service.models import Campaign
from service.models import InboundReceipt
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from service.answer_side.releases import due_campaigns
from service.infra.reply_list import listed_ids
from service.outbox.send_jobs import enqueue_send_by_lane
from workers import unsure_sends
from workers.store import release_pool

log = logging.getLogger(__name__)

# Twilio retries a webhook for minutes, never for days.
RECEIPT_KEEP = timedelta(days=7)
SWEEP_LIMIT = 5000
SEND_JOB = "workers.send.send_outbox"


def sweep_outbox(now: datetime | None = None) -> int:
    """Re-enqueue stale pending rows and rows stuck in sending; returns how many."""
    runtime = runtimes.current()
    now = now or utcnow()
    # A pending row this old was never queued, or its job was lost with Redis.
    pending_grace = timedelta(seconds=runtime.config.pending_grace)
    # A send takes seconds; a row claimed this long ago belongs to a dead worker.
    # A message Twilio accepted before the worker died has left "sending" by
    # then: its status callback names the row (?ref=) and marks it sent.
    sending_grace = timedelta(seconds=runtime.config.sending_grace)
    # Without a status callback (none configured, or lost) the provider is asked before a row is sent again;
    # where it cannot be asked (Telegram), the row waits a longer grace.
    settled = unsure_sends.settle(runtime, now, SWEEP_LIMIT)
    with runtime.transaction() as session:
        stuck = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "sending", OutboxMessage.updated_at < now - sending_grace)
            .order_by(OutboxMessage.id)
            .limit(SWEEP_LIMIT)
        ).all()
        stuck = [outbox_id for outbox_id in stuck if outbox_id not in settled]
        # Jobs still waiting or scheduled for a retry hold their own rows: a backlog is
        # no loss. Only those rows wait; a row whose job went with Redis is queued again even
        # while new jobs keep the queue busy. So do replies listed while a drain is pending;
        # once its flag lapsed (a killed drainer), nobody holds them and they are queued here.
        queued = _queued_ids(runtime.queue(SEND_QUEUE), overdue_before=now - pending_grace) | listed_ids(runtime.redis)
        candidates = session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.updated_at < now - pending_grace,
                # Held for quiet hours or a full provider queue: not before its time.
                or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(SWEEP_LIMIT + len(queued))
        ).all()
        stale = [outbox_id for outbox_id in candidates if outbox_id not in queued][:SWEEP_LIMIT]
        ids = list(stuck) + list(stale)
        if ids:
            # Touching updated_at makes the next sweep wait another grace period.
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(("pending", "sending")))
                .values(status="pending", updated_at=now)
            )
            enqueue_send_by_lane(session, _lanes_of(session, ids))
    if ids:
        log.info("outbox sweep re-enqueued %d stuck and %d stale rows", len(stuck), len(stale))
    return len(ids)


def _lanes_of(session, ids: list[int]) -> list[tuple]:
    """(id, campaign id, channel) of these rows, in id order: the sweeper queues each campaign and channel apart."""
    campaign_id = func.coalesce(OutboxMessage.campaign_id, Invitation.campaign_id)
    return session.execute(
        select(OutboxMessage.id, campaign_id, OutboxMessage.channel)
        .outerjoin(Invitation, Invitation.id == OutboxMessage.invitation_id)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()


def _queued_ids(queue, overdue_before: datetime) -> set[int]:
    """Outbox ids that a send job in Redis still holds: waiting, or scheduled for a retry not long overdue.

    Running jobs do not count: a worker killed mid-job stays "started" in RQ's
    registry for minutes. Their rows are claimed ("sending") as each is tried;
    a pending one re-queued meanwhile gets a second job, whose claim skips it.
    Nor do retries due before `overdue_before`: a killed worker holds RQ's
    scheduler lock for a minute or more, and their respondents wait meanwhile;
    if the late job runs after all, its claim skips what was sent.
    """
    registry = queue.scheduled_job_registry
    scheduled = queue.connection.zrangebyscore(registry.key, int(overdue_before.timestamp()), "+inf")
    job_ids = [*queue.get_job_ids(), *(job_id.decode() if isinstance(job_id, bytes) else job_id for job_id in scheduled)]
    held = set()
    for job in Job.fetch_many(job_ids, connection=queue.connection):
        if job is not None and job.func_name == SEND_JOB and job.args:
            held.update(job.args[0])
    return held


def purge_receipts(now: datetime | None = None) -> int:
    """Delete inbound receipts older than a week; returns how many."""
    runtime = runtimes.current()
    now = now or utcnow()
    with runtime.transaction() as session:
        deleted = session.execute(delete(InboundReceipt).where(InboundReceipt.received_at < now - RECEIPT_KEEP))
    return deleted.rowcount


def purge_conversation_traces() -> int:
    """Delete the settled rows of ended conversations, then checkpoint the WAL (A1, A4); returns how many rows.

    A completing step's last replies were still pending when it ended; they
    go here once sent, and their old page versions leave the WAL with them.
    """
    runtime = runtimes.current()
    with runtime.transaction() as session:
        deleted = forget_conversation_rows(session)
    checkpoint_database()
    scrub_closed_campaigns()
    return deleted


def scrub_closed_campaigns(now: datetime | None = None) -> int:
    """Rewrite PostgreSQL's dispatch tables once per closed campaign whose traces are gone (A1, A4); returns how many campaigns.

    Driven by the database (campaigns.pages_scrubbed_at), so a failed or
    lock-timed-out rewrite is tried again at the next sweep.
    """
    from service.dispatch import page_scrub
    from service.infra.db import engine_for

    runtime = runtimes.current()
    with runtime.transaction() as session:
        due = page_scrub.due_campaigns(session)
    if not due:
        return 0
    page_scrub.rewrite_tables(engine_for(runtime.config.database_url, runtime.config.db_lock_timeout))
    with runtime.transaction() as session:
        page_scrub.mark_scrubbed(session, due, now or utcnow())
    log.info("dispatch tables rewritten after the close of %d campaigns", len(due))
    return len(due)


def checkpoint_database() -> bool:
    """Truncate the SQLite WAL, so deleted rows' old page versions leave the disk (A4); a no-op on PostgreSQL."""
    config = runtimes.current().config
    return checkpoint(engine_for(config.database_url, config.db_lock_timeout))


def open_due_campaigns(now: datetime | None = None) -> int:
    """Open scheduled campaigns whose opening time has come, sending their invitations; returns how many."""
    now = now or utcnow()
    due = select(Campaign.id).where(Campaign.status == "scheduled", Campaign.opens_at <= now)
    return _each_campaign(due, "scheduled", lambda session, runtime, campaign: open_campaign(session, runtime, campaign, now))


def close_due_campaigns(now: datetime | None = None) -> int:
    """Close campaigns whose closing time has passed, erasing their addresses (A5); returns how many."""
    now = now or utcnow()
    due = select(Campaign.id).where(Campaign.status.in_(("scheduled", "open")), Campaign.closes_at <= now)
    return _each_campaign(due, None, lambda session, runtime, campaign: close(session, campaign, now, runtime))


def _each_campaign(query, status: str | None, action) -> int:
    """Run `action` on each campaign of `query` in its own transaction; raise at the end if any failed."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        ids = session.scalars(query.order_by(Campaign.id)).all()
    done, failed = 0, []
    for campaign_id in ids:
        try:
            with runtime.transaction() as session:
                campaign = session.get(Campaign, campaign_id)
                if campaign.status == "closed" or (status and campaign.status != status):
                    continue  # another sweeper or a person got there first
                action(session, runtime, campaign)
                done += 1
        except Exception:
            # One broken campaign must not hold up the others; the job still fails below.
            log.exception("campaign %s: the sweeper failed", campaign_id)
            failed.append(campaign_id)
    if failed:
        raise RuntimeError(f"sweeper failed for campaigns {failed}; retried at the next run")
    return done



def release_due_pools(now: datetime | None = None) -> int:
    """Release the pools that are due (closed campaigns, interim requests now met); returns how many sets went (A3).

    The database drives releases: a close whose fast-path job was lost with Redis is released here.
    """
    runtime = runtimes.current()
    with runtime.transaction() as session:
        ids = due_campaigns(session)
    released, failed = 0, []
    for campaign_id in ids:
        try:
            released += release_pool(campaign_id)
        except Exception:
            log.exception("campaign %s: the release failed", campaign_id)
            failed.append(campaign_id)
    if failed:
        raise RuntimeError(f"release failed for campaigns {failed}; retried at the next run")
    return released
