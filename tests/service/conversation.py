"""Drive conversations through the real runner, as a phone would, and read the replies."""
import itertools

from sqlalchemy import select

from service.conversation.inbound import InboundMessage
from service.models import OutboxMessage
from service.conversation.runner import handle_inbound
from tests.factories import NOW

_sids = itertools.count(1)


def say(runtime, phone, text, sid=None, channel="sms", now=NOW):
    """Send one message from `phone`; returns "applied" or "duplicate"."""
    sid = sid or f"SM{next(_sids):032d}"
    message = InboundMessage(channel=channel, external_id=sid, address=phone, text=text)
    return handle_inbound(runtime, message, now)


def replies(runtime, phone) -> list[OutboxMessage]:
    """Outbox rows addressed to `phone`, oldest first."""
    with runtime.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [row for row in rows if row.address_enc and runtime.vault.decrypt(row.address_enc) == phone]


def last_reply(runtime, phone) -> OutboxMessage:
    return replies(runtime, phone)[-1]


def answer_all(runtime, phone, text_answer="Bra program", max_steps=40):
    """Answer every question with its first offered option (or text); returns the steps taken."""
    for step in range(max_steps):
        reply = last_reply(runtime, phone)
        if not reply.options and reply.invitation_id is not None and _finished(runtime, reply):
            return step
        # A free-text question offers only its skip button ("-"): write instead.
        offered = [option["reply"] for option in reply.options or () if option["reply"] != "-"]
        answer = offered[0] if offered else text_answer
        say(runtime, phone, answer)
    raise AssertionError("survey did not finish")


def _finished(runtime, reply):
    from service.models import Invitation

    with runtime.session() as session:
        return session.get(Invitation, reply.invitation_id).status in ("completed", "opted_out")
