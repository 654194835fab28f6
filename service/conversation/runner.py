"""The inbound step: dedupe, lock the conversation, resume the engine, apply the Sprint.

Everything a step changes (conversation state, outbox rows, invitation
status, pooled answers) commits in one transaction; send jobs are enqueued
only after that commit. The parts: receipts (dedupe), locked (the read),
opening (a first message: address or code), apply (the writes).
"""
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from flows import chat
from flows.engine import resume
from flows.model import EventType
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.render import language_of

from .inbound import InboundMessage
from ..models import SurveyVersion
from ..surveys import parsed_survey
from ..surveys import survey_of
from .apply import apply_answer
from .apply import apply_sprint
from .apply import expire
from .apply import send
from .locked import Locked
from .locked import locked_conversation
from .opening import open_conversation
from .receipts import first_receipt

APPLIED = "applied"
DUPLICATE = "duplicate"
# A button that no longer answers anything (an earlier question, a finished survey).
IGNORED = "ignored"


def handle_inbound(runtime, message: InboundMessage, now: datetime) -> str:
    """Apply one inbound message exactly once: APPLIED, DUPLICATE or IGNORED; raise if the database fails."""
    for attempt in range(3):
        try:
            with runtime.transaction() as session:
                if not first_receipt(session, message, now):
                    return DUPLICATE
                return _step(session, runtime, message, now)
        except IntegrityError:
            # Two first messages from one address raced to create the
            # conversation; the loser runs again and finds it.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _step(session, runtime, message, now):
    vault = runtime.vault
    address_hash = vault.address_hash(message.channel, message.address)
    locked = locked_conversation(session, message.channel, address_hash)
    opened = locked is None
    if opened:
        if message.option is not None:
            return IGNORED
        conversation = open_conversation(session, runtime, message, address_hash, now)
        if conversation is None:
            return APPLIED
        locked = Locked.of(conversation)
    state = State.from_dict(vault.decrypt_json(locked.state_enc))
    if locked.campaign_status != "open":
        expire(session, runtime, locked.orm(session), state, now)
        return APPLIED
    survey = _survey(session, locked)
    text = message.text
    if message.unreadable:
        # A sticker or an edit is no answer: explain, and count no attempt.
        send(session, runtime, locked, [chat.unreadable(message.unreadable, language_of(survey, state.language))])
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
        apply_answer(session, runtime, locked, sprint, now)
    return APPLIED


def _survey(session, locked):
    """The parsed survey; its version's row is read only in a process that has not parsed it yet."""
    survey = parsed_survey(locked.survey_digest)
    if survey is None:
        survey = survey_of(session.get(SurveyVersion, locked.survey_version_id))
    return survey
