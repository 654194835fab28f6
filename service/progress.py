"""Campaign progress from the dispatch side: how far invitations got, per unit."""
from sqlalchemy import func
from sqlalchemy import select

from .models import Campaign
from .models import Invitation

FIELDS = ("total", "invited", "delivered", "started", "completed", "opted_out", "failed", "response_rate")


def progress(session, campaign: Campaign) -> dict:
    """Counts of invitations by how far they got, for the campaign and per unit.

    total: every invitation (SMS and paper). invited: issued, i.e. any status
    but created. delivered: reached the phone (delivered, started or
    completed: a reply proves delivery). started: began answering (started or
    completed). completed, opted_out, failed: in that status now.
    response_rate: completed / invited, 0.0 while nobody is invited.
    """
    counts = session.execute(
        select(Invitation.unit_id, Invitation.status, func.count())
        .where(Invitation.campaign_id == campaign.id)
        .group_by(Invitation.unit_id, Invitation.status)
    ).all()
    by_unit: dict[int, dict[str, int]] = {unit.id: {} for unit in campaign.units}
    overall: dict[str, int] = {}
    for unit_id, status, count in counts:
        by_unit.setdefault(unit_id, {})[status] = count
        overall[status] = overall.get(status, 0) + count
    names = {unit.id: unit.name for unit in campaign.units}
    return {
        "campaign_id": campaign.id,
        "status": campaign.status,
        **funnel(overall),
        "units": [
            {"unit_id": unit_id, "name": names.get(unit_id), **funnel(statuses)}
            for unit_id, statuses in sorted(by_unit.items())
        ],
    }


def funnel(statuses: dict[str, int]) -> dict:
    """The progress fields from counts per invitation status."""

    def count(*names):
        return sum(statuses.get(name, 0) for name in names)

    total = sum(statuses.values())
    invited = total - count("created")
    completed = count("completed")
    return {
        "total": total,
        "invited": invited,
        "delivered": count("delivered", "started", "completed"),
        "started": count("started", "completed"),
        "completed": completed,
        "opted_out": count("opted_out"),
        "failed": count("failed"),
        "response_rate": round(completed / invited, 4) if invited else 0.0,
    }
