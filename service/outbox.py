"""Outbox rows: every message Svar says is written here first, then queued by id."""
from .models import OutboxMessage


def queue_outbound(session, runtime, *, channel, address_enc, outbound, invitation=None, kind="reply", now=None):
    """Write one outbox row per Outbound and queue their ids for sending after commit."""
    if not outbound:
        return []
    from workers.send import enqueue_send

    rows = [
        OutboxMessage(
            channel=channel,
            address_enc=address_enc,
            body=message.text,
            options=[{"reply": o.reply, "label": o.label} for o in message.options] or None,
            question_id=message.question_id if message.options else None,
            kind=kind,
            campaign_id=invitation.campaign_id if invitation is not None else None,
            invitation_id=invitation.id if invitation is not None else None,
            **({"created_at": now, "updated_at": now} if now else {}),
        )
        for message in outbound
    ]
    session.add_all(rows)
    session.flush()
    ids = [row.id for row in rows]
    enqueue_send(session, ids)
    return ids
