"""Sends whose outcome is unknown (a timeout, a killed worker, no status callback): asked of the provider before sending again.

A row left in "sending" past the grace period may have reached the
provider. Twilio can say: its Messages list is searched for the row's
number and text since the claim, and a match is recorded as sent with its
SID instead of sending a second copy. A lookup that fails (Twilio's API
down, a bug) leaves the row for the next sweep, at most `unsure_lookups`
sweeps: then it is sent again without asking (a question twice beats a
question lost). The first failure of a sweep stops its lookups, so an API
that hangs costs one timeout a sweep, and the other rows of the sweep go on.

Telegram has no such lookup. The send worker records a message as soon as
Telegram answers (workers/send.py), so only a message in flight when its
worker died is unsure: at most one per lane. Such a row is sent again only
after `unsure_grace`, longer than a live but slow worker needs to record
it, and counted (`unsure_sweeps`) as a possible duplicate.
"""
import logging
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import update

from service.outbox import code_slots
from service.infra import db
from service.channels import channel_for
from service.channels.twilio import CLOCK_SKEW
from service.models import OutboxMessage
from service.models import utcnow
from workers import send_rows

log = logging.getLogger(__name__)

# Channels that can tell whether they took a message.
LOOKUP_CHANNELS = ("sms",)


def settle(runtime, now: datetime, limit: int) -> set[int]:
    """Look up rows stuck in "sending" past the sending grace; record those the provider has. Returns the ids not to resend now."""
    config = runtime.config
    stuck_before = now - timedelta(seconds=config.sending_grace)
    resend_blind_before = now - timedelta(seconds=max(config.unsure_grace, config.sending_grace))
    with runtime.session() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.address_enc, OutboxMessage.body,
                   OutboxMessage.kind, OutboxMessage.invitation_id, OutboxMessage.updated_at, OutboxMessage.unsure_sweeps, *send_rows.CODE)
            .where(OutboxMessage.status == "sending", OutboxMessage.updated_at < stuck_before)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    held, counted = set(), []
    asking = True
    for row in rows:
        if row.channel not in LOOKUP_CHANNELS:
            if row.updated_at >= resend_blind_before:
                held.add(row.id)  # its worker may still record it
            else:
                log.warning("outbox %s: unsure whether %s took it, and it cannot say; sent again", row.id, row.channel)
                counted.append(row.id)
            continue
        if not (row.body and row.address_enc):
            continue  # nothing to look up by: the send job fails it
        counted.append(row.id)
        if (row.unsure_sweeps or 0) >= max(1, config.unsure_lookups):
            log.warning("outbox %s: no answer from %d lookups; sent again without asking", row.id, row.unsure_sweeps)
            continue
        if not asking:
            held.add(row.id)
            continue
        try:
            address = runtime.vault.decrypt(row.address_enc)
            # The provider holds the text as sent: with the code in its slot.
            text = code_slots.rendered(runtime.vault, row.kind, row.body, row.invitation_id, row.code_enc)
        except ValueError:
            continue  # not decryptable: the send job fails it
        if text is None:
            continue  # its code is gone: the send job fails it
        try:
            sid = channel_for(row.channel, runtime).find_sent(address, text, row.updated_at - CLOCK_SKEW)
        except Exception as exc:
            # Unsure still (TemporaryFailure: Twilio cannot say; anything else: a bug): resending could send twice,
            # so the row waits for the next sweep, and so do the rest of this sweep's lookups.
            log.warning("outbox %s: could not look up its send (%s); asked again at the next sweep", row.id, type(exc).__name__)
            held.add(row.id)
            asking = False
            continue
        if sid is not None:
            _record(runtime, row, sid)
            log.info("outbox %s: the provider had it; recorded as sent, not sent again", row.id)
            held.add(row.id)
    _count(runtime, counted)
    return held


def _record(runtime, row, sid: str):
    config = runtime.config
    with db.engine_for(config.database_url, config.db_lock_timeout).connect() as connection, connection.begin():
        invited = row.invitation_id if row.kind == "invitation" else None
        send_rows.record_sent(connection, row.id, sid, utcnow(), invitation_id=invited)


def _count(runtime, ids: list[int]):
    """One more sweep found these rows unsure."""
    if not ids:
        return
    with runtime.transaction() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(unsure_sweeps=OutboxMessage.unsure_sweeps + 1)
        )
