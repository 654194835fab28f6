"""The sender's conversation, read and locked for a step in one statement, as plain values."""
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..models import Campaign
from ..models import Conversation
from ..models import Invitation
from ..models import SurveyVersion


class InvitationIds(NamedTuple):
    """What an outbox row needs of its invitation."""

    id: int
    campaign_id: int


@dataclass
class Locked:
    """The conversation a step works on, as plain values; its ORM object is loaded only for the steps that need one."""

    conversation_id: int
    channel: str
    address_enc: str
    state_enc: str
    invitation: InvitationIds
    invitation_status: str
    campaign_status: str
    survey_version_id: int
    survey_digest: str
    conversation: Conversation | None = None

    @classmethod
    def of(cls, conversation: Conversation) -> "Locked":
        invitation = conversation.invitation
        campaign = invitation.campaign
        return cls(
            conversation.id, conversation.channel, conversation.address_enc, conversation.state_enc,
            InvitationIds(invitation.id, invitation.campaign_id), invitation.status, campaign.status,
            campaign.survey_version_id, campaign.survey_version.sha256, conversation,
        )

    def orm(self, session) -> Conversation:
        if self.conversation is None:
            # Already locked by this transaction's read; apply_sprint needs its invitation too.
            self.conversation = session.get(Conversation, self.conversation_id, options=[joinedload(Conversation.invitation)])
        return self.conversation


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


def locked_conversation(session, channel, address_hash) -> Locked | None:
    """The sender's conversation, locked for this transaction, or None."""
    row = session.connection().execute(_LOCKED_CONVERSATION, {"channel": channel, "address_hash": address_hash}).first()
    if row is None:
        return None
    return Locked(
        row.id, row.channel, row.address_enc, row.state_enc, InvitationIds(row.invitation_id, row.campaign_id),
        row.invitation_status, row.campaign_status, row.survey_version_id, row.sha256,
    )
