"""Outbox rows: every message Svar says is written here first, then queued by id."""
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from ..models import NUDGE_NUMBER
from ..models import OutboxMessage
from ..models import ReminderSend
from ..infra.queue import after_commit_replies
from .send_jobs import enqueue_send

# Outbox statuses that mean the provider took the message.
HANDED_OVER = ("sent", "delivered")

# One statement for every step's rows, built once; plain rows, not ORM objects:
# nothing in the step reads them back, and the unit of work costs more than the insert.
_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id, sort_by_parameter_order=True)


def queue_outbound(session, runtime, *, channel, address_enc, outbound, invitation=None, kind="reply", now=None):
    """Write one outbox row per Outbound and queue their ids for sending after commit (replies to the replies list)."""
    if not outbound:
        return []
    rows = [
        {
            "channel": channel,
            "address_enc": address_enc,
            "body": message.text,
            "options": [{"reply": o.reply, "label": o.label} for o in message.options] or None,
            "question_id": message.question_id if message.options else None,
            "kind": kind,
            "campaign_id": invitation.campaign_id if invitation is not None else None,
            "invitation_id": invitation.id if invitation is not None else None,
            **({"created_at": now, "updated_at": now} if now else {}),
        }
        for message in outbound
    ]
    # Whatever the caller added is written first, as the ORM flush here used to.
    session.flush()
    result = session.connection().execute(_INSERT, rows if len(rows) > 1 else rows[0])
    ids = list(result.scalars())
    if kind == "reply":
        # One inbound step's answer: pushed to the replies list, drained in batches by one job (service/infra/reply_list.py).
        after_commit_replies(session, ids)
    else:
        enqueue_send(session, ids)
    return ids


def reminders_sent(session, invitation_id: int) -> int:
    """Reminders the provider took for this invitation: what a completion is attributed to."""
    return session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.invitation_id == invitation_id,
            OutboxMessage.kind == "reminder",
            OutboxMessage.status.in_(HANDED_OVER),
            # The nudge is no reminder for progress, and would say that the respondent had stalled (A1).
            ~exists().where(
                ReminderSend.invitation_id == invitation_id, ReminderSend.number == NUDGE_NUMBER, ReminderSend.outbox_id == OutboxMessage.id
            ),
        )
    )
