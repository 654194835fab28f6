"""At close, a campaign's kept outbox rows get fresh ids in invitation order, so no id gap counts a conversation's messages (A1).

Outbox ids come from one sequence for every message. Once a conversation's
replies are deleted, the ids of the invitation and reminder rows kept around
them leave gaps: the gap after a reminder wave, next to a completion on a
known day, is the number of messages that respondent exchanged, so it tells
how many questions they were asked (branching) and re-asked. Renumbering the
kept rows at close closes those gaps for good, and orders the rows by
invitation instead of by time. The rows are copied under new ids and the old
ones deleted (reminder records follow), since a referenced key cannot move
in place. While the campaign runs, the gaps are there (README, Security).
"""
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from ..models import Invitation
from ..models import OutboxMessage
from ..models import ReminderSend

OUTBOX = OutboxMessage.__table__
# Rows in flight keep their id: the send worker holds it and will record the outcome under it.
IN_FLIGHT = ("pending", "sending")


def renumber_kept_rows(session, campaign_id: int) -> int:
    """Give every settled outbox row of the campaign a new id, in invitation order; how many rows."""
    invitations = select(Invitation.id).where(Invitation.campaign_id == campaign_id)
    of_campaign = or_(OUTBOX.c.campaign_id == campaign_id, OUTBOX.c.invitation_id.in_(invitations))
    rows = session.execute(
        select(OUTBOX)
        .where(of_campaign, OUTBOX.c.status.not_in(IN_FLIGHT))
        .order_by(OUTBOX.c.invitation_id, OUTBOX.c.kind, OUTBOX.c.created_at, OUTBOX.c.id)
    ).mappings().all()
    if not rows:
        return 0
    session.flush()
    copies = [{key: value for key, value in row.items() if key != "id"} for row in rows]
    new_ids = list(session.execute(
        insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True), copies
    ).scalars())
    sends = ReminderSend.__table__
    session.execute(
        update(sends).where(sends.c.outbox_id == bindparam("old")).values(outbox_id=bindparam("new")),
        [{"old": row["id"], "new": new_id} for row, new_id in zip(rows, new_ids)],
    )
    session.execute(
        delete(OUTBOX).where(OUTBOX.c.id.in_([row["id"] for row in rows])).execution_options(synchronize_session=False)
    )
    return len(rows)
