"""Small-group protection at the source (A6): fewer invited, fewer revealing questions."""
from sqlalchemy import func
from sqlalchemy import select

from .models import Invitation

# Below this many invited in a unit (and group), background questions and
# comments could single a person out, so the engine skips them.
SMALL_GROUP = 5


def small_group_switches(session, invitation: Invitation) -> dict:
    """State flags for an invitation's unit and group: skip_background, skip_comments."""
    query = select(func.count()).select_from(Invitation).where(
        Invitation.campaign_id == invitation.campaign_id, Invitation.unit_id == invitation.unit_id
    )
    if invitation.group_id is not None:
        query = query.where(Invitation.group_id == invitation.group_id)
    small = session.scalar(query) < SMALL_GROUP
    return {"skip_background": small, "skip_comments": small}
