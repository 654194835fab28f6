"""Sends whose outcome is unknown (a timeout, a killed worker, no status callback): asked of the provider before sending again.

A row left in "sending" past the grace period may have reached the
provider. Twilio can say: its Messages list is searched for the row's
number and text since the claim, and a match is recorded as sent with its
SID instead of sending a second copy. Telegram has no such lookup; its rows
are sent again (a question twice beats a question lost).
"""
import logging
from datetime import datetime

from sqlalchemy import select

from service import code_slots
from service import db
from service.channels import channel_for
from service.channels.base import TemporaryFailure
from service.channels.twilio import CLOCK_SKEW
from service.models import OutboxMessage
from service.models import utcnow
from workers import send_rows

log = logging.getLogger(__name__)

# Channels that can tell whether they took a message.
LOOKUP_CHANNELS = ("sms",)


def settle(runtime, stuck_before: datetime, limit: int) -> set[int]:
    """Look up rows stuck in "sending" since before `stuck_before`; record those the provider has. Returns the ids not to resend now."""
    with runtime.session() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.address_enc, OutboxMessage.body,
                   OutboxMessage.kind, OutboxMessage.invitation_id, OutboxMessage.updated_at, *send_rows.CODE)
            .where(OutboxMessage.status == "sending", OutboxMessage.updated_at < stuck_before,
                   OutboxMessage.channel.in_(LOOKUP_CHANNELS))
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    held = set()
    for row in rows:
        if not (row.body and row.address_enc):
            continue
        try:
            address = runtime.vault.decrypt(row.address_enc)
            # The provider holds the text as sent: with the code in its slot.
            text = code_slots.rendered(runtime.vault, row.kind, row.body, row.invitation_id, row.code_enc)
            if text is None:
                continue  # its code is gone: the send job fails it
            sid = channel_for(row.channel, runtime).find_sent(address, text, row.updated_at - CLOCK_SKEW)
        except TemporaryFailure as exc:
            # Unsure still: resending could send twice, so the row waits for the next sweep.
            log.warning("outbox %s: could not look up its send (%s); asked again at the next sweep", row.id, exc)
            held.add(row.id)
            continue
        except ValueError:
            continue  # not decryptable: the send job fails it
        if sid is not None:
            _record(runtime, row, sid)
            log.info("outbox %s: the provider had it; recorded as sent, not sent again", row.id)
            held.add(row.id)
    return held


def _record(runtime, row, sid: str):
    config = runtime.config
    with db.engine_for(config.database_url, config.db_lock_timeout).connect() as connection, connection.begin():
        invited = row.invitation_id if row.kind == "invitation" else None
        send_rows.record_sent(connection, row.id, sid, utcnow(), invitation_id=invited)
