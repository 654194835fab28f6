"""A campaign's reminder policy: read it, with the schedule it gives, and set it."""
from ..models import utcnow
from ..reminders.quiet_hours import zone
from ..reminders.plan import plan
from ..reminders.policy import PolicyError
from ..reminders.policy import policy_from_json
from ..reminders.policy import policy_json
from ..reminders.policy import policy_of
from ..reminders.policy import save_policy
from . import bp
from .auth import READERS
from .auth import api_call
from .auth import json_body
from .campaigns import find_campaign
from .errors import ApiError
from .errors import invalid
from .values import iso


def reminders_json(policy, campaign, now) -> dict:
    """The policy and, as a preview, when an invitation issued at launch (or now) would be reminded."""
    issued = campaign.launched_at or now
    steps = plan(policy, zone(policy.zone_name(campaign)), issued, campaign.closes_at)
    return {
        **policy_json(policy, campaign),
        "schedule": {
            "invited_at": iso(issued),
            "reminders": [{"number": step.number, "kind": step.kind, "at": iso(step.due)} for step in steps],
        },
    }


@bp.get("/campaigns/<int:campaign_id>/reminders")
@api_call(READERS)
def get_reminders(session, user, campaign_id):
    """The campaign's reminder policy (the defaults until one is set) and its schedule."""
    campaign = find_campaign(session, user, campaign_id)
    return reminders_json(policy_of(session, campaign), campaign, utcnow())


@bp.put("/campaigns/<int:campaign_id>/reminders")
@api_call()
def put_reminders(session, user, campaign_id):
    """Set the reminder policy; fields left out take the defaults."""
    campaign = find_campaign(session, user, campaign_id)
    if campaign.status == "closed":
        raise ApiError(409, "the campaign is closed", "campaign_state")
    now = utcnow()
    try:
        policy = policy_from_json(json_body())
        save_policy(session, campaign, policy, now)
    except PolicyError as error:
        raise invalid(str(error), problems=error.problems) from None
    return reminders_json(policy, campaign, now)
