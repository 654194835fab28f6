"""One Telegram update, whether it came by webhook or by polling: runner, button acknowledgement, message edit."""
import logging
from datetime import datetime

from ..conversation import runner
from .telegram import NAME
from .telegram import Press
from .telegram import read_update
from ..models import OutboxMessage
from ..infra.queue import SEND_QUEUE
from ..infra.queue import SEND_RETRY
from ..infra.queue import after_commit
from ..outbox.send_jobs import SEND_JOB

log = logging.getLogger(__name__)

# Shows the pressed answer under the question, so the chat reads as a record.
CHOSEN = "\n\n\u2705 %s"
# Telegram's limit for a message text.
TEXT_MAX = 4096


def handle_update(runtime, data: dict, now: datetime) -> dict | None:
    """Apply one update; returns the Bot API call to make at once (a message edit), or None.

    ValueError if `data` is no update. Database errors propagate, with the
    receipt rolled back, so Telegram's retry (or the next poll) is safe.
    """
    _, received = read_update(data)
    outcome = None
    if received.message is not None:
        outcome = runner.handle_inbound(runtime, received.message, now)
    press = received.press
    if press is None or outcome == runner.DUPLICATE:
        return None
    _acknowledge(runtime, press, now)
    if outcome == runner.APPLIED:
        return _show_choice(press)
    # A button of an earlier question or a finished survey: take the stale keyboard away.
    return _remove_keyboard(press)


def _acknowledge(runtime, press: Press, now: datetime):
    """Queue answerCallbackQuery, ahead of other sends: the respondent's button spins until it runs."""
    with runtime.transaction() as session:
        row = OutboxMessage(
            channel=NAME,
            kind="ack",
            address_enc=runtime.vault.encrypt(str(press.chat_id)),
            body=press.callback_query_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        after_commit(session, SEND_JOB, [row.id], queue=SEND_QUEUE, retry=SEND_RETRY, at_front=True)


def _show_choice(press: Press) -> dict | None:
    """editMessageText: the question, the chosen answer under it, and no keyboard left."""
    if press.message_id is None:
        return None
    if not press.question_text or not press.label:
        return _remove_keyboard(press)
    text = press.question_text + CHOSEN % press.label
    if len(text) > TEXT_MAX:
        return _remove_keyboard(press)
    # Built from the update alone: the chosen answer is stored nowhere (A1).
    return {"method": "editMessageText", "chat_id": press.chat_id, "message_id": press.message_id, "text": text}


def _remove_keyboard(press: Press) -> dict | None:
    if press.message_id is None:
        return None
    # Without reply_markup, Telegram removes the inline keyboard.
    return {"method": "editMessageReplyMarkup", "chat_id": press.chat_id, "message_id": press.message_id}
