"""The receipt of each provider message id: a message is applied once, however often it is delivered."""
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from ..models import InboundReceipt


def _receipt_insert(dialect):
    return (
        dialect.insert(InboundReceipt.__table__)
        .values(channel=bindparam("channel"), external_id=bindparam("external_id"), received_at=bindparam("received_at"))
        .on_conflict_do_nothing()
        # rowcount is not reliable across drivers; a returned row is.
        .returning(InboundReceipt.__table__.c.external_id)
    )


# Statements of every step, built once: building one costs more than running it.
_RECEIPT = {"sqlite": _receipt_insert(sqlite), "postgresql": _receipt_insert(postgresql)}


def first_receipt(session, message, now) -> bool:
    """Record the provider's message id; False if it was applied before."""
    statement = _RECEIPT["sqlite" if session.bind.dialect.name == "sqlite" else "postgresql"]
    values = {"channel": message.channel, "external_id": message.external_id, "received_at": now}
    # A plain statement on the session's connection: no ORM object is involved.
    return session.connection().execute(statement, values).scalar() is not None
