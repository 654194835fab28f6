"""Small-group protection at the source (A6): fewer invited, fewer revealing questions."""
from sqlalchemy import func
from sqlalchemy import select

from ..models import Invitation

# Below this many invited in a unit and group, background questions and
# comments could single a person out, so the engine skips them. The
# deployment sets it with SVAR_SMALL_GROUP; a campaign may set its own.
SMALL_GROUP = 5


def small_group_threshold(campaign, default: int = SMALL_GROUP) -> int:
    """The campaign's own threshold, else the deployment's."""
    return campaign.small_group if campaign.small_group is not None else default


def small_group_switches(session, invitation: Invitation, default: int = SMALL_GROUP) -> dict:
    """State flags for an invitation's unit and group: skip_background, skip_comments.

    The cell is the unit and the group together (no group is a cell of its
    own), the smallest one results can be broken down by. Every invitation
    of the campaign counts, answered or not: the question is how many could
    be behind an answer.
    """
    threshold = small_group_threshold(invitation.campaign, default)
    # Counting stops at the threshold: a unit of a national campaign has tens
    # of thousands of invitations, and each first message asks the question.
    cell = (
        select(Invitation.id)
        .where(
            Invitation.campaign_id == invitation.campaign_id,
            Invitation.unit_id == invitation.unit_id,
            Invitation.group_id.is_(None) if invitation.group_id is None else Invitation.group_id == invitation.group_id,
        )
        .limit(max(0, threshold))
        .subquery()
    )
    small = session.scalar(select(func.count()).select_from(cell)) < threshold
    return {"skip_background": small, "skip_comments": small}
