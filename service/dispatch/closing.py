"""Closing a campaign (A5, A7): addresses and codes erased, unfinished answers settled, the pool released (A3)."""
import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from flows.model import State

from .campaign_errors import CampaignStateError
from .traces import DISPATCH_KINDS
from .traces import forget_conversation_rows
from ..models import Campaign
from ..models import Conversation
from ..models import Invitation
from ..models import OutboxMessage
from ..outbox.renumber import renumber_kept_rows
from ..infra.queue import after_commit
from ..answer_side.releases import RELEASE_JOB
from ..answer_side.releases import pool_answers

log = logging.getLogger(__name__)


def close(session, campaign: Campaign, now: datetime, runtime=None):
    """Close the campaign: erase its phone numbers and chat ids; only keyed hashes stay.

    Unfinished conversations end here. By the campaign's incomplete_policy
    their answers so far are discarded, or pooled as incomplete (anonymous
    like any other set); then the whole pool is due for release.
    """
    runtime = runtime or session.info["runtime"]
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is already closed")
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status != "closed")
        .values(status="closed", closed_at=now)
    )
    if claimed.rowcount != 1:
        raise CampaignStateError("the campaign was closed by someone else")
    session.refresh(campaign)
    kept = _settle_conversations(session, runtime, campaign)
    invitations = select(Invitation.id).where(Invitation.campaign_id == campaign.id)
    # The codes go with the numbers: no message will carry one again (A7).
    session.execute(update(Invitation).where(Invitation.campaign_id == campaign.id).values(address_enc=None, code_enc=None))
    # Nothing may go out after close: unsent messages fail, and every body and address goes.
    of_campaign = or_(OutboxMessage.campaign_id == campaign.id, OutboxMessage.invitation_id.in_(invitations))
    session.execute(
        update(OutboxMessage)
        .where(of_campaign, OutboxMessage.status == "pending")
        .values(status="failed", error_code="campaign_closed", updated_at=now)
    )
    session.execute(update(OutboxMessage).where(of_campaign).values(address_enc=None, body=None))
    _forget_dispatch_traces(session, campaign, invitations)
    # The pool is released in full, however few: the job is only the fast path,
    # the release sweeper finds the closed campaign's pool if Redis is down (A3).
    after_commit(session, RELEASE_JOB, campaign.id)
    log.info("campaign %s closed; %d unfinished answer sets kept as incomplete", campaign.id, kept)


def _forget_dispatch_traces(session, campaign: Campaign, invitations):
    """Every conversation of the campaign has ended: its rows go, and the WAL's old page versions after commit (A1, A4)."""
    session.flush()
    forget_conversation_rows(session, invitations)
    session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.invitation_id.is_(None),
               OutboxMessage.kind.not_in(DISPATCH_KINDS))
        .execution_options(synchronize_session=False)
    )
    renumber_kept_rows(session, campaign.id)
    after_commit(session, "workers.schedule.checkpoint_database")


def _settle_conversations(session, runtime, campaign: Campaign) -> int:
    """End the campaign's conversations, pooling their answers if the policy keeps them; how many were kept."""
    conversations = session.scalars(
        select(Conversation).join(Invitation).where(Invitation.campaign_id == campaign.id)
    ).all()
    kept = 0
    if campaign.incomplete_policy == "keep":
        for conversation in conversations:
            answers = State.from_dict(runtime.vault.decrypt_json(conversation.state_enc)).answers
            if answers:
                pool_answers(session, runtime, conversation.invitation, dict(answers), complete=False, mode=conversation.channel)
                kept += 1
    invitations = select(Invitation.id).where(Invitation.campaign_id == campaign.id)
    session.execute(delete(Conversation).where(Conversation.invitation_id.in_(invitations)))
    return kept
