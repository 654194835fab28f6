"""What the dispatch side forgets when a conversation ends (A1, A4): its outbox rows, the finishing time, old page versions."""
import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import update

from ..models import NUDGE_NUMBER
from ..models import Conversation
from ..models import OutboxMessage
from ..models import ReminderSend

log = logging.getLogger(__name__)

# Rows the send path will not touch again: their bodies and addresses are gone already.
SETTLED = ("sent", "delivered", "failed", "undelivered")
# Invitations and reminders stay for progress (delivered, failed by reason); every other row spoke inside a conversation.
DISPATCH_KINDS = ("invitation", "reminder")


def day_of(now: datetime) -> datetime:
    """The day of a start or a completion, no finer (A1): the hour would single out a respondent among the answers."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def forget_conversation_rows(session, invitation_ids=None) -> int:
    """Delete settled conversation rows (replies, acks) whose conversation has ended; how many.

    `invitation_ids` (ids or a select of them) narrows it to those
    invitations; without it every ended conversation's rows go (the sweeper).
    Rows still pending are kept until they settle: the last replies of a
    completing step must still be sent, and the sweeper takes them afterwards.
    A reminder sent inside a conversation repeats a question: it loses its
    question id and options here, and stays for progress. The nudge does
    not: its record and its row go, once it settled.
    """
    ended = ~exists().where(Conversation.invitation_id == OutboxMessage.invitation_id)
    of_ended = or_(OutboxMessage.invitation_id.is_(None), ended)
    settled = OutboxMessage.status.in_(SETTLED)
    narrowed = [] if invitation_ids is None else [OutboxMessage.invitation_id.in_(invitation_ids)]
    nudges = _forget_nudges(session, invitation_ids)
    conversation_row = or_(OutboxMessage.kind.not_in(DISPATCH_KINDS), OutboxMessage.id.in_(nudges))
    deleted = session.execute(
        delete(OutboxMessage)
        .where(settled, of_ended, conversation_row, *narrowed)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(OutboxMessage)
        .where(settled, OutboxMessage.question_id.is_not(None), *narrowed)
        .values(question_id=None, options=None)
        .execution_options(synchronize_session=False)
    )
    return deleted


def _forget_nudges(session, invitation_ids) -> list[int]:
    """Delete the nudge records of ended conversations whose nudge settled (or never had a row); their outbox ids."""
    ended = ~exists().where(Conversation.invitation_id == ReminderSend.invitation_id)
    unsettled = exists().where(OutboxMessage.id == ReminderSend.outbox_id, OutboxMessage.status.not_in(SETTLED))
    narrowed = [] if invitation_ids is None else [ReminderSend.invitation_id.in_(invitation_ids)]
    where = (ReminderSend.number == NUDGE_NUMBER, ended, ~unsettled, *narrowed)
    # One statement: it runs in every completing step.
    deleted = session.execute(
        delete(ReminderSend).where(*where).returning(ReminderSend.outbox_id).execution_options(synchronize_session=False)
    )
    return [outbox_id for outbox_id in deleted.scalars() if outbox_id]


def checkpoint(engine) -> bool:
    """Move the WAL into the database file and truncate it, so old page versions leave the disk (A4); True if it did.

    secure_delete zeroes deleted cells in the database file, but the WAL
    still holds every page as it was before; TRUNCATE empties it once no
    reader needs those versions (busy readers make it wait for the next run).
    PostgreSQL writes nothing secret in clear; its dead tuples (ciphertexts)
    go at vacuum, which autovacuum runs.
    """
    if engine.dialect.name != "sqlite":
        return False
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        busy, _log_pages, _moved = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    if busy:
        log.info("WAL checkpoint deferred: a reader still holds old pages")
    return not busy
