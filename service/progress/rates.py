"""Campaign progress from the dispatch side: how far invitations got, per unit and group."""
from sqlalchemy import func
from sqlalchemy import select

from ..models import Campaign
from ..models import Invitation
from ..models import RespondentGroup
from .sampling import sampling_guidance

FIELDS = ("total", "invited", "delivered", "started", "completed", "opted_out", "failed", "response_rate")


def progress(session, campaign: Campaign) -> dict:
    """Counts of invitations by how far they got, for the campaign, per unit and per group in a unit.

    total: every invitation (SMS and paper). invited: issued, i.e. any status
    but created. delivered: reached the phone (delivered, started or
    completed: a reply proves delivery). started: began answering (started or
    completed). completed, opted_out, failed: in that status now.
    response_rate: completed / invited, 0.0 while nobody is invited.
    guidance: the sampling rule of thumb for the unit (see sampling.py).
    """
    counts = session.execute(
        select(Invitation.unit_id, Invitation.group_id, Invitation.status, func.count())
        .where(Invitation.campaign_id == campaign.id)
        .group_by(Invitation.unit_id, Invitation.group_id, Invitation.status)
    ).all()
    by_unit: dict[int, dict[str, int]] = {unit.id: {} for unit in campaign.units}
    by_cell: dict[tuple, dict[str, int]] = {}
    overall: dict[str, int] = {}
    for unit_id, group_id, status, count in counts:
        for statuses in (by_unit.setdefault(unit_id, {}), by_cell.setdefault((unit_id, group_id), {}), overall):
            statuses[status] = statuses.get(status, 0) + count
    after = completed_after(session, campaign)
    names = {unit.id: unit.name for unit in campaign.units}
    group_ids = {group_id for _unit, group_id in by_cell if group_id is not None}
    group_names = dict(
        session.execute(select(RespondentGroup.id, RespondentGroup.name).where(RespondentGroup.id.in_(group_ids))).all()
    ) if group_ids else {}
    return {
        "campaign_id": campaign.id,
        "status": campaign.status,
        **funnel(overall),
        "completed_after": waves(_sum_units(after)),
        "units": [
            {
                "unit_id": unit_id,
                "name": names.get(unit_id),
                **with_guidance(statuses),
                "completed_after": waves(after.get(unit_id, {})),
                "groups": [
                    {"group_id": group_id, "name": group_names.get(group_id), **with_guidance(cell)}
                    for (cell_unit, group_id), cell in sorted(by_cell.items(), key=_cell_order)
                    if cell_unit == unit_id
                ],
            }
            for unit_id, statuses in sorted(by_unit.items())
        ],
    }


def completed_after(session, campaign: Campaign) -> dict[int, dict[int, int]]:
    """Completions per unit by how many reminders had gone out first: {unit_id: {reminders: count}}."""
    rows = session.execute(
        select(Invitation.unit_id, Invitation.completed_after, func.count())
        .where(Invitation.campaign_id == campaign.id, Invitation.status == "completed")
        .group_by(Invitation.unit_id, Invitation.completed_after)
    ).all()
    per_unit: dict[int, dict[int, int]] = {}
    for unit_id, reminders, count in rows:
        # Completions from before reminders were counted belong to the invitation.
        counts = per_unit.setdefault(unit_id, {})
        counts[reminders or 0] = counts.get(reminders or 0, 0) + count
    return per_unit


def waves(counts: dict[int, int]) -> list[dict]:
    """[{reminders, completed}] from 0 to the last reminder that brought a completion, without gaps."""
    if not counts:
        return []
    return [{"reminders": number, "completed": counts.get(number, 0)} for number in range(max(counts) + 1)]


def _sum_units(per_unit: dict[int, dict[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for counts in per_unit.values():
        for number, count in counts.items():
            total[number] = total.get(number, 0) + count
    return total


def with_guidance(statuses: dict[str, int]) -> dict:
    """The funnel of `statuses` and the sampling guidance for them."""
    counts = funnel(statuses)
    return {**counts, "guidance": sampling_guidance(counts["total"] - counts["opted_out"], counts["completed"])}


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


def _cell_order(item):
    (unit_id, group_id), _statuses = item
    # Respondents without a group come last in their unit.
    return (unit_id, group_id is None, group_id or 0)
