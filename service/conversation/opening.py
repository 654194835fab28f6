"""A sender with no conversation yet: bind one to their invitation, by address or typed code, or say why not.

A typed code is matched by its keyed hash and refused with the reply its
state calls for; a stranger's used code hears exactly what a wrong code
gets (A7), and guessing is counted per sender and campaign (code_attempts).
"""
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from flows import intake
from flows.languages import ASK
from flows.model import Outbound
from flows.model import State

from . import code_attempts
from ..dispatch.codes import code_hash
from .language import intake_language
from .language import starting_state
from ..models import Campaign
from ..models import Conversation
from ..models import OPEN_INVITATION
from ..models import Invitation
from ..models import SurveyVersion
from ..outbox.rows import queue_outbound
from .thresholds import small_group_switches


def open_conversation(session, runtime, message, address_hash, now) -> Conversation | None:
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
