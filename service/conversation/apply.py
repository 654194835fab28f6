"""Writing what the engine decided: outbox rows, invitation status, the state, or the pooled answers.

A step that neither completes nor opts out writes with plain statements on
the locked row's values (apply_answer); the others load the ORM objects.
"""
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from flows.engine import resume
from flows.model import EventType
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import Sprint

from ..answer_side.releases import pool_answers
from ..dispatch import optouts
from ..dispatch.traces import day_of
from ..dispatch.traces import forget_conversation_rows
from ..models import Conversation
from ..models import Invitation
from ..models import OPEN_INVITATION
from ..outbox.rows import queue_outbound
from ..outbox.rows import reminders_sent
from ..surveys import survey_of
from .locked import Locked

_CONVERSATIONS = Conversation.__table__
_INVITATIONS = Invitation.__table__


def apply_sprint(session, runtime, conversation: Conversation, sprint: Sprint, now: datetime, kind: str = "reply"):
    """Write what the engine decided: outbox rows, invitation status, state or pooled answers."""
    invitation = conversation.invitation
    send(session, runtime, conversation, sprint.outbound, kind)
    if sprint.has(EventType.LANGUAGE_CHANGED):
        # Reminders and the pooled answers then speak the language the respondent chose.
        invitation.language = sprint.state.language
    if sprint.has(EventType.STARTED) and invitation.status in OPEN_INVITATION:
        invitation.status = "started"
        invitation.started_at = day_of(now)
    if sprint.has(EventType.OPTED_OUT):
        # Opting out withdraws the answers given so far as well.
        optouts.opt_out(session, invitation.campaign.organisation_id, conversation.address_hash)
        invitation.status = "opted_out"
        invitation.code_enc = None
        session.delete(conversation)
        return
    if sprint.has(EventType.COMPLETED):
        # Dispatch side only: which reminder brought the answer, for progress.
        # Asked first, so its autoflush does not write the invitation twice.
        completed_after = reminders_sent(session, invitation.id)
        pool_answers(session, runtime, invitation, sprint.state.answers, complete=True, mode=conversation.channel)
        invitation.status = "completed"
        invitation.completed_after = completed_after
        # Spent: no message will carry it again (A7).
        invitation.code_enc = None
        session.delete(conversation)
        _forget_conversation(session, invitation, now)
        return
    state_enc = runtime.vault.encrypt_json(sprint.state.to_dict())
    _save_state(session, conversation.id, state_enc, now)
    set_committed_value(conversation, "state_enc", state_enc)
    set_committed_value(conversation, "updated_at", now)


def apply_answer(session, runtime, locked: Locked, sprint: Sprint, now: datetime):
    """apply_sprint for a sprint that neither completes nor opts out, in plain statements on the locked row's values."""
    send(session, runtime, locked, sprint.outbound)
    changes = {}
    if sprint.has(EventType.LANGUAGE_CHANGED):
        changes["language"] = sprint.state.language
    if sprint.has(EventType.STARTED) and locked.invitation_status in OPEN_INVITATION:
        changes.update(status="started", started_at=day_of(now))
    if changes:
        session.connection().execute(update(_INVITATIONS).where(_INVITATIONS.c.id == locked.invitation.id).values(**changes))
    _save_state(session, locked.conversation_id, runtime.vault.encrypt_json(sprint.state.to_dict()), now)


_SAVE_STATE = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(state_enc=bindparam("new_state"), updated_at=bindparam("now"))
)


def _save_state(session, conversation_id: int, state_enc: str, now: datetime):
    """Store the new state with one plain UPDATE: the ORM's unit of work for one changed row costs more than the step's engine."""
    session.connection().execute(_SAVE_STATE, {"conversation_id": conversation_id, "new_state": state_enc, "now": now})


def _forget_conversation(session, invitation, now):
    """The dispatch side keeps of a completion only its day, no schedule, and none of the conversation's settled rows (A1)."""
    invitation.completed_at = day_of(now)
    # The reminder sweeper may have set it to the last answer's time plus a grace period.
    invitation.next_reminder_at = None
    session.flush()
    forget_conversation_rows(session, [invitation.id])


def expire(session, runtime, conversation, state, now):
    """The campaign closed under an open conversation: say so and end it."""
    survey = survey_of(conversation.invitation.campaign.survey_version)
    sprint = resume(survey, state, Inbound(kind=InboundKind.EXPIRE), now)
    send(session, runtime, conversation, sprint.outbound)
    session.delete(conversation)


def send(session, runtime, conversation, outbound, kind="reply"):
    """Outbox rows for the conversation (a Conversation, or a Locked row: the same three attributes)."""
    queue_outbound(
        session,
        runtime,
        channel=conversation.channel,
        address_enc=conversation.address_enc,
        outbound=outbound,
        invitation=conversation.invitation,
        kind=kind,
    )
