"""The send job's outbox statements, in SQLAlchemy Core on the job's connection: one statement each.

The job runs them inside its own transactions (see workers/send.py); none
commits. Rows come back as Core rows with the outbox's column names.

On PostgreSQL recording a sent message (the outbox row and its invitation)
is one statement (data-modifying CTEs), and so is a claim: each is atomic
by itself, so the job runs them in autocommit, two round trips a message
instead of six (BEGIN, claim, COMMIT; BEGIN, record, invite, COMMIT). SQLite has
no data-modifying CTEs; there they are separate statements in the job's
transactions, which costs no round trips in process.
"""
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from service.models import Campaign
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage

# What the job needs of a claimed row.
CLAIMED = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.address_enc,
    OutboxMessage.body,
    OutboxMessage.options,
    OutboxMessage.question_id,
    OutboxMessage.kind,
    OutboxMessage.campaign_id,
    OutboxMessage.invitation_id,
)


def _of_invitation(column):
    return select(column).where(Invitation.id == OutboxMessage.invitation_id).correlate(OutboxMessage).scalar_subquery()


# The row's own campaign if it names one, else its invitation's.
_CAMPAIGN_ID = func.coalesce(OutboxMessage.campaign_id, _of_invitation(Invitation.campaign_id))


def _of_campaign(column):
    return select(column).where(Campaign.id == _CAMPAIGN_ID).correlate(OutboxMessage).scalar_subquery()


# What the send gate checks of an invitation or reminder, read with the claim (see workers/send_gate.py).
GATE = (
    _of_invitation(Invitation.status).label("invitation_status"),
    exists()
    .where(
        OptOut.organisation_id == _of_campaign(Campaign.organisation_id),
        OptOut.address_hash == _of_invitation(Invitation.address_hash),
    )
    .correlate(OutboxMessage)
    .label("opted_out"),
    _of_campaign(Campaign.id).label("gate_campaign_id"),
    _of_campaign(Campaign.status).label("campaign_status"),
    _of_campaign(Campaign.closes_at).label("closes_at"),
)
# The invitation's encrypted code, for the body's slot if it has one (service/outbox/code_slots.py).
CODE = (_of_invitation(Invitation.code_enc).label("code_enc"),)
# Rows a send may still be recorded on: the sweeper may have put a claimed row back to pending meanwhile.
# Spelled out as ORs: an IN list is expanded into the SQL text at every execution (SQLAlchemy's "post-compile").
UNRECORDED = ("pending", "sending")


# Built once: a statement made per message costs more CPU than running it.
_CLAIM = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("outbox_id"),
        OutboxMessage.status == "pending",
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= bindparam("now")),
    )
    .values(status="sending", attempts=OutboxMessage.attempts + 1, updated_at=bindparam("now"))
    .returning(*CLAIMED, *GATE, *CODE)
)
_HOLD = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"))
    .values(status="pending", attempts=OutboxMessage.attempts - 1, not_before=bindparam("until"), updated_at=bindparam("now"))
)
_CLOSE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"))
    .values(
        status=bindparam("status"),
        error_code=bindparam("error_code"),
        error_message=bindparam("error_message"),
        body=None,
        address_enc=None,
        # A settled row names no question (A1).
        question_id=None,
        options=None,
        updated_at=bindparam("now"),
    )
)
def _sent(outbox_id: str, provider_id: str, now: str):
    """The UPDATE that records a message as sent, with its bind parameters named as given."""
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id == bindparam(outbox_id), or_(*(OutboxMessage.status == status for status in UNRECORDED)))
        .values(
            status="sent",
            error_code=None,
            error_message=None,
            body=None,
            address_enc=None,
            question_id=None,
            options=None,
            provider_id=bindparam(provider_id),
            sent_at=bindparam(now),
            updated_at=bindparam(now),
        )
    )


_SENT = _sent("outbox_id", "provider_id", "now")
# Its status callback came first (delivery.py reconciles by ?ref=): statuses only move forward, so "delivered" stays.
_SENT_LATE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"))
    .values(provider_id=func.coalesce(OutboxMessage.provider_id, bindparam("provider_id")))
)
_INVITED = (
    update(Invitation)
    .where(Invitation.id == bindparam("invitation_id"), Invitation.status == "created")
    .values(status="invited", invited_at=bindparam("now"))
)


# The same record as one statement for PostgreSQL: the message sent (or, if its status
# callback came first, given its provider id), and its invitation invited; bind names prev_*.
_SENT_CTE = _sent("prev_id", "prev_provider_id", "prev_now").returning(OutboxMessage.id).cte("sent")
_SENT_LATE_CTE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("prev_id"), ~exists(select(_SENT_CTE.c.id)))
    .values(provider_id=func.coalesce(OutboxMessage.provider_id, bindparam("prev_provider_id")))
    .returning(OutboxMessage.id)
    .cte("sent_late")
)
_INVITED_CTE = (
    update(Invitation)
    .where(Invitation.id == bindparam("prev_invitation_id"), Invitation.status == "created", exists(select(_SENT_CTE.c.id)))
    .values(status="invited", invited_at=bindparam("prev_now"))
    .returning(Invitation.id)
    .cte("invited")
)
_RECORD = select(_SENT_CTE.c.id).add_cte(_SENT_LATE_CTE).add_cte(_INVITED_CTE)


def one_statement(connection) -> bool:
    """Whether recording and claiming are single statements here (PostgreSQL), safe to run in autocommit."""
    return connection.dialect.name == "postgresql"


def _previous(outbox_id: int, provider_id: str, now: datetime, invitation_id: int | None = None) -> dict:
    return {"prev_id": outbox_id, "prev_provider_id": provider_id, "prev_now": now, "prev_invitation_id": invitation_id}


def claim(connection, outbox_id: int, now: datetime):
    """pending -> sending if the row is due; the claimed row with the gate's facts, or None if it is not ours to send."""
    return connection.execute(_CLAIM, {"outbox_id": outbox_id, "now": now}).first()


def hold(connection, outbox_id: int, until: datetime, now: datetime):
    """Back to pending until `until`: a hold is no attempt, and body and address stay."""
    connection.execute(_HOLD, {"outbox_id": outbox_id, "until": until, "now": now})


def close(connection, outbox_id: int, status: str, error_code: str | None, error_message: str | None, now: datetime):
    """Final for this attempt, without asking the provider (refused by the gate, nothing to send)."""
    values = closing(status, error_code, error_message, now)
    connection.execute(_CLOSE, {"outbox_id": outbox_id, "status": status, "error_code": error_code,
                                "error_message": values["error_message"], "now": now})


def closing(status: str, error_code: str | None, error_message: str | None, now: datetime) -> dict:
    """The columns of a row final for this attempt: the body and address are no longer needed, so they go (A4, A5)."""
    return {
        "status": status,
        "error_code": error_code,
        "error_message": error_message[:500] if error_message else None,
        "body": None,
        "address_enc": None,
        "question_id": None,
        "options": None,
        "updated_at": now,
    }


def record_sent(connection, outbox_id: int, provider_id: str, now: datetime, invitation_id: int | None = None):
    """The provider accepted the message: sent and erased; `invitation_id`, if given, invited."""
    if one_statement(connection):
        connection.execute(_RECORD, _previous(outbox_id, provider_id, now, invitation_id))
        return
    parameters = {"outbox_id": outbox_id, "provider_id": provider_id, "now": now}
    if connection.execute(_SENT, parameters).rowcount != 1:
        connection.execute(_SENT_LATE, parameters)
    elif invitation_id is not None:
        connection.execute(_INVITED, {"invitation_id": invitation_id, "now": now})
