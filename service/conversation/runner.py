"""The inbound step: dedupe, lock the conversation, resume the engine, apply the Sprint.

Everything a step changes (conversation state, outbox rows, invitation
status, pooled answers) commits in one transaction; send jobs are enqueued
only after that commit.
"""
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from flows import chat
from flows import intake
from flows.engine import resume
from flows.languages import ASK
from flows.model import EventType
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import Outbound
from flows.model import Sprint
from flows.model import State
from flows.render import language_of

from . import code_attempts
from ..dispatch import optouts
from ..channels.base import InboundMessage
from ..dispatch.codes import code_hash
from .language import intake_language
from ..dispatch.traces import day_of
from ..dispatch.traces import forget_conversation_rows
from .language import starting_state
from ..models import Campaign
from ..models import Conversation
from ..models import InboundReceipt
from ..models import OPEN_INVITATION
from ..models import Invitation
from ..models import SurveyVersion
from ..outbox.rows import queue_outbound
from ..outbox.rows import reminders_sent
from ..answer_side.releases import pool_answers
from ..surveys import parsed_survey
from ..surveys import survey_of
from .thresholds import small_group_switches

log = logging.getLogger(__name__)

APPLIED = "applied"
DUPLICATE = "duplicate"
# A button that no longer answers anything (an earlier question, a finished survey).
IGNORED = "ignored"


def handle_inbound(runtime, message: InboundMessage, now: datetime) -> str:
    """Apply one inbound message exactly once: APPLIED, DUPLICATE or IGNORED; raise if the database fails."""
    for attempt in range(3):
        try:
            with runtime.transaction() as session:
                if not _first_receipt(session, message, now):
                    return DUPLICATE
                return _step(session, runtime, message, now)
        except IntegrityError:
            # Two first messages from one address raced to create the
            # conversation; the loser runs again and finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


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


def _first_receipt(session, message, now) -> bool:
    """Record the provider's message id; False if it was applied before."""
    statement = _RECEIPT["sqlite" if session.bind.dialect.name == "sqlite" else "postgresql"]
    values = {"channel": message.channel, "external_id": message.external_id, "received_at": now}
    # A plain statement on the session's connection: no ORM object is involved.
    return session.connection().execute(statement, values).scalar() is not None


class _InvitationIds(NamedTuple):
    """What an outbox row needs of its invitation."""

    id: int
    campaign_id: int


@dataclass
class _Locked:
    """The conversation a step works on, as plain values; its ORM object is loaded only for the steps that need one."""

    conversation_id: int
    channel: str
    address_enc: str
    state_enc: str
    invitation: _InvitationIds
    invitation_status: str
    campaign_status: str
    survey_version_id: int
    survey_digest: str
    conversation: Conversation | None = None

    @classmethod
    def of(cls, conversation: Conversation) -> "_Locked":
        invitation = conversation.invitation
        campaign = invitation.campaign
        return cls(
            conversation.id, conversation.channel, conversation.address_enc, conversation.state_enc,
            _InvitationIds(invitation.id, invitation.campaign_id), invitation.status, campaign.status,
            campaign.survey_version_id, campaign.survey_version.sha256, conversation,
        )

    def orm(self, session) -> Conversation:
        if self.conversation is None:
            # Already locked by this transaction's read; apply_sprint needs its invitation too.
            self.conversation = session.get(Conversation, self.conversation_id, options=[joinedload(Conversation.invitation)])
        return self.conversation


def _step(session, runtime, message, now):
    vault = runtime.vault
    address_hash = vault.address_hash(message.channel, message.address)
    locked = _locked_conversation(session, message.channel, address_hash)
    opened = locked is None
    if opened:
        if message.option is not None:
            return IGNORED
        conversation = _open_conversation(session, runtime, message, address_hash, now)
        if conversation is None:
            return APPLIED
        locked = _Locked.of(conversation)
    state = State.from_dict(vault.decrypt_json(locked.state_enc))
    if locked.campaign_status != "open":
        _expire(session, runtime, locked.orm(session), state, now)
        return APPLIED
    survey = _survey(session, locked)
    text = message.text
    if message.unreadable:
        # A sticker or an edit is no answer: explain, and count no attempt.
        _send(session, runtime, locked, [chat.unreadable(message.unreadable, language_of(survey, state.language))])
        return APPLIED
    if message.option is not None:
        text = chat.button_reply(survey, state, message.question_id, message.option)
        if text is None:
            return IGNORED
    elif message.code is not None and not opened:
        # The deep link again, mid-survey: show where they are ("?" is help in every language).
        text = "?"
    inbound = Inbound(kind=InboundKind.MESSAGE, text=text)
    sprint = resume(survey, state, inbound, now, max_attempts=runtime.config.max_attempts)
    if opened or sprint.has(EventType.OPTED_OUT) or sprint.has(EventType.COMPLETED):
        apply_sprint(session, runtime, locked.orm(session), sprint, now)
    else:
        _apply_answer(session, runtime, locked, sprint, now)
    return APPLIED


def _survey(session, locked):
    """The parsed survey; its version's row is read only in a process that has not parsed it yet."""
    survey = parsed_survey(locked.survey_digest)
    if survey is None:
        survey = survey_of(session.get(SurveyVersion, locked.survey_version_id))
    return survey


_CONVERSATIONS = Conversation.__table__
_INVITATIONS = Invitation.__table__
_CAMPAIGNS = Campaign.__table__
_SURVEY_VERSIONS = SurveyVersion.__table__
# The sender's conversation, locked, with what a step needs of its invitation,
# campaign and survey version (the digest, not the source text) in the same
# read; plain columns: building ORM objects cost more than the statement.
_LOCKED_CONVERSATION = (
    select(
        _CONVERSATIONS.c.id,
        _CONVERSATIONS.c.channel,
        _CONVERSATIONS.c.address_enc,
        _CONVERSATIONS.c.state_enc,
        _INVITATIONS.c.id.label("invitation_id"),
        _INVITATIONS.c.campaign_id,
        _INVITATIONS.c.status.label("invitation_status"),
        _CAMPAIGNS.c.status.label("campaign_status"),
        _SURVEY_VERSIONS.c.id.label("survey_version_id"),
        _SURVEY_VERSIONS.c.sha256,
    )
    .select_from(
        _CONVERSATIONS.join(_INVITATIONS, _INVITATIONS.c.id == _CONVERSATIONS.c.invitation_id)
        .join(_CAMPAIGNS, _CAMPAIGNS.c.id == _INVITATIONS.c.campaign_id)
        .join(_SURVEY_VERSIONS, _SURVEY_VERSIONS.c.id == _CAMPAIGNS.c.survey_version_id)
    )
    .where(_CONVERSATIONS.c.channel == bindparam("channel"), _CONVERSATIONS.c.address_hash == bindparam("address_hash"))
    .with_for_update(of=_CONVERSATIONS)
)


def _locked_conversation(session, channel, address_hash) -> _Locked | None:
    row = session.connection().execute(_LOCKED_CONVERSATION, {"channel": channel, "address_hash": address_hash}).first()
    if row is None:
        return None
    return _Locked(
        row.id, row.channel, row.address_enc, row.state_enc, _InvitationIds(row.invitation_id, row.campaign_id),
        row.invitation_status, row.campaign_status, row.survey_version_id, row.sha256,
    )


def _open_conversation(session, runtime, message, address_hash, now) -> Conversation | None:
    """Bind a new conversation to an invitation, by address or by typed code; else explain."""
    invitation = _invitation_for_address(session, message.channel, address_hash)
    typed_code = code_hash(runtime.vault, message.text) if intake.looks_like_code(message.text) else None
    if message.code is not None:
        # A deep link's code is meant as one even when it is mistyped: no match is "not found".
        typed_code = code_hash(runtime.vault, message.code) or "no such code"
    # Words of an invited sender are counted as theirs only: they answer an invitation, not guess.
    guessing = typed_code is not None and invitation is None
    guess_scope = (_known_campaigns(session, address_hash) if guessing else [], guessing)
    tries = code_attempts.take_try(runtime, address_hash, *guess_scope) if typed_code else None
    if typed_code and tries is None:
        if invitation is None:
            _reply(session, runtime, message, intake.too_many_code_attempts(_intake_language(runtime, message), code_attempts.window(runtime)), None)
            return None
        typed_code = None
    by_code = session.scalar(select(Invitation).where(Invitation.code_hash == typed_code)) if typed_code else None
    if by_code is not None and not _may_hear_of(by_code, address_hash):
        by_code = None
    if typed_code and by_code is None:
        code_attempts.log_wrong_code(address_hash, tries)
    elif typed_code:
        code_attempts.give_back(runtime, address_hash, *guess_scope)
    # Someone invited by SMS may reply with words that happen to look like a
    # code ("yes please"); only a code that exists overrides their invitation.
    if typed_code and (by_code is not None or invitation is None):
        refusal = _code_refusal(session, by_code)
        if refusal is not None:
            language = by_code.language if by_code and by_code.language != ASK else _intake_language(runtime, message)
            _reply(session, runtime, message, refusal(language), by_code)
            return None
        invitation = by_code
    if invitation is None:
        _reply(session, runtime, message, _no_invitation_reply(session, runtime, message, address_hash), None)
        return None
    switches = small_group_switches(session, invitation, runtime.config.small_group)
    state = State(**starting_state(invitation, message.language_hint), **switches)
    conversation = Conversation(
        channel=message.channel,
        address_hash=address_hash,
        address_enc=runtime.vault.encrypt(message.address),
        invitation=invitation,
        state_enc=runtime.vault.encrypt_json(state.to_dict()),
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    session.flush()
    return conversation


# With its campaign and survey version (not its source): the first step reads both.
_INVITATION_FOR_ADDRESS = (
    select(Invitation)
    .join(Invitation.campaign)
    .options(contains_eager(Invitation.campaign).joinedload(Campaign.survey_version).defer(SurveyVersion.source))
    .where(
        Invitation.channel == bindparam("channel"),
        Invitation.address_hash == bindparam("address_hash"),
        Invitation.status.in_(OPEN_INVITATION),
        Campaign.status == "open",
    )
    .order_by(Invitation.id.desc())
    .limit(1)
)


def _invitation_for_address(session, channel, address_hash) -> Invitation | None:
    """The open invitation sent to this address, so a reply to it starts the survey."""
    return session.scalar(_INVITATION_FOR_ADDRESS, {"channel": channel, "address_hash": address_hash})


def _known_campaigns(session, address_hash) -> list[int]:
    """The open campaigns that sent this address an invitation: their guess counters are this sender's too."""
    return list(session.scalars(
        select(Invitation.campaign_id).join(Invitation.campaign)
        .where(Invitation.address_hash == address_hash, Campaign.status == "open").distinct()
    ))


def _may_hear_of(invitation, address_hash) -> bool:
    """False for a used code sent by a stranger: they hear exactly what a wrong code gets."""
    # Only the address the invitation went to may learn that its code was used;
    # a printed code's answerer left no address, so nobody hears it of a paper code.
    return invitation.status != "completed" or invitation.address_hash == address_hash


def _code_refusal(session, invitation):
    """Why a typed code cannot start a survey, as an intake reply function; None if it can."""
    if invitation is None:
        return intake.code_not_found
    if invitation.campaign.status in ("draft", "scheduled"):
        return intake.campaign_not_open
    if invitation.campaign.status != "open":
        return intake.campaign_closed
    if invitation.status == "completed":
        return intake.already_answered
    if invitation.status not in OPEN_INVITATION:
        return intake.code_not_found
    in_use = session.scalar(select(Conversation.id).where(Conversation.invitation_id == invitation.id))
    return intake.code_in_use if in_use else None


def _no_invitation_reply(session, runtime, message, address_hash) -> Outbound:
    answered = session.scalar(
        select(Invitation.language)
        .where(Invitation.address_hash == address_hash, Invitation.status == "completed")
        .limit(1)
    )
    if answered:
        return intake.already_answered(answered)
    return intake.unknown_sender(_intake_language(runtime, message))


def _intake_language(runtime, message) -> str:
    return intake_language(message.language_hint, runtime.config.default_language)


def _reply(session, runtime, message, outbound: Outbound, invitation):
    """Answer a sender who has no conversation (yet)."""
    queue_outbound(
        session,
        runtime,
        channel=message.channel,
        address_enc=runtime.vault.encrypt(message.address),
        outbound=[outbound],
        invitation=invitation,
    )


def apply_sprint(session, runtime, conversation: Conversation, sprint: Sprint, now: datetime, kind: str = "reply"):
    """Write what the engine decided: outbox rows, invitation status, state or pooled answers."""
    invitation = conversation.invitation
    _send(session, runtime, conversation, sprint.outbound, kind)
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


def _apply_answer(session, runtime, locked: _Locked, sprint: Sprint, now: datetime):
    """apply_sprint for a sprint that neither completes nor opts out, in plain statements on the locked row's values."""
    _send(session, runtime, locked, sprint.outbound)
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


def _expire(session, runtime, conversation, state, now):
    """The campaign closed under an open conversation: say so and end it."""
    survey = survey_of(conversation.invitation.campaign.survey_version)
    sprint = resume(survey, state, Inbound(kind=InboundKind.EXPIRE), now)
    _send(session, runtime, conversation, sprint.outbound)
    session.delete(conversation)


def _send(session, runtime, conversation, outbound, kind="reply"):
    """Outbox rows for the conversation (a Conversation, or a _Locked row: the same three attributes)."""
    queue_outbound(
        session,
        runtime,
        channel=conversation.channel,
        address_enc=conversation.address_enc,
        outbound=outbound,
        invitation=conversation.invitation,
        kind=kind,
    )
