"""Sweepers run by rq cron: rebuild the send queue from the outbox, forget old receipts."""
import logging
from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from service import runtime as runtimes
from service.models import InboundReceipt
from service.models import OutboxMessage
from service.models import utcnow
from service.queue import SEND_QUEUE
from workers.send import enqueue_send

log = logging.getLogger(__name__)

# A pending row this old was never queued, or its job was lost with Redis.
PENDING_GRACE = timedelta(seconds=60)
# A send takes seconds; a row claimed this long ago belongs to a dead worker.
SENDING_GRACE = timedelta(minutes=5)
# Twilio retries a webhook for minutes, never for days.
RECEIPT_KEEP = timedelta(days=7)
SWEEP_LIMIT = 5000


def sweep_outbox(now: datetime | None = None) -> int:
    """Re-enqueue stale pending rows and rows stuck in sending; returns how many."""
    runtime = runtimes.current()
    now = now or utcnow()
    with runtime.transaction() as session:
        stuck = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "sending", OutboxMessage.updated_at < now - SENDING_GRACE)
            .order_by(OutboxMessage.id)
            .limit(SWEEP_LIMIT)
        ).all()
        stale = []
        # Jobs still waiting in the queue hold their own rows: a backlog is no loss.
        if runtime.queue(SEND_QUEUE).count == 0:
            stale = session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.updated_at < now - PENDING_GRACE)
                .order_by(OutboxMessage.id)
                .limit(SWEEP_LIMIT)
            ).all()
        ids = list(stuck) + list(stale)
        if ids:
            # Touching updated_at makes the next sweep wait another grace period.
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(("pending", "sending")))
                .values(status="pending", updated_at=now)
            )
            enqueue_send(session, ids)
    if ids:
        log.info("outbox sweep re-enqueued %d stuck and %d stale rows", len(stuck), len(stale))
    return len(ids)


def purge_receipts(now: datetime | None = None) -> int:
    """Delete inbound receipts older than a week; returns how many."""
    runtime = runtimes.current()
    now = now or utcnow()
    with runtime.transaction() as session:
        deleted = session.execute(delete(InboundReceipt).where(InboundReceipt.received_at < now - RECEIPT_KEEP))
    return deleted.rowcount
