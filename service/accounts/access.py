"""Who may read what: administrators see their organisation, coordinators only their units.

Every admin page, API call and export asks here, so the rule lives once.
"""
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import select

from ..models import Campaign
from ..models import CampaignUnit
from ..models import Unit
from ..models import User
from ..models import UserUnit
from ..progress.rates import FIELDS

ADMIN = "admin"
COORDINATOR = "coordinator"
ROLES = (ADMIN, COORDINATOR)


def unit_scope(session, user: User) -> set[int] | None:
    """The unit ids `user` may read; None means every unit of their organisation."""
    if user.role == ADMIN:
        return None
    return set(session.scalars(select(UserUnit.unit_id).where(UserUnit.user_id == user.id)))


def assigned_units(session, user: User) -> list[Unit]:
    """The units assigned to `user`, by name."""
    return session.scalars(
        select(Unit).join(UserUnit, UserUnit.unit_id == Unit.id).where(UserUnit.user_id == user.id).order_by(Unit.name)
    ).all()


def assign_units(session, user: User, unit_ids) -> list[Unit]:
    """Replace `user`'s units with `unit_ids` (of their own organisation only); returns them."""
    wanted = set(unit_ids)
    units = session.scalars(
        select(Unit).where(Unit.organisation_id == user.organisation_id, Unit.id.in_(wanted))
    ).all() if wanted else []
    if len(units) != len(wanted):
        raise ValueError("unknown unit")
    session.execute(delete(UserUnit).where(UserUnit.user_id == user.id))
    session.add_all(UserUnit(user_id=user.id, unit_id=unit.id) for unit in units)
    session.flush()
    return sorted(units, key=lambda unit: unit.name)


def visible_campaigns(session, user: User):
    """A select of the campaigns `user` may see: the organisation's, narrowed to their units."""
    query = select(Campaign).where(Campaign.organisation_id == user.organisation_id)
    scope = unit_scope(session, user)
    if scope is not None:
        query = query.where(
            exists().where(CampaignUnit.campaign_id == Campaign.id, CampaignUnit.unit_id.in_(scope or [-1]))
        )
    return query


def can_see_campaign(session, user: User, campaign: Campaign | None) -> bool:
    """True if `campaign` is in `user`'s organisation and (for a coordinator) has one of their units."""
    if campaign is None or campaign.organisation_id != user.organisation_id:
        return False
    scope = unit_scope(session, user)
    return scope is None or any(unit.id in scope for unit in campaign.units)


def restrict_progress(data: dict, scope: set[int] | None) -> dict:
    """A progress() result cut to the units in `scope`, totals summed again over them."""
    if scope is None:
        return data
    units = [unit for unit in data["units"] if unit["unit_id"] in scope]
    counted = [name for name in FIELDS if name != "response_rate"]
    totals = {name: sum(unit.get(name, 0) for unit in units) for name in counted}
    invited = totals.get("invited", 0)
    totals["response_rate"] = round(totals.get("completed", 0) / invited, 4) if invited else 0.0
    after: dict[int, int] = {}
    for unit in units:
        for wave in unit.get("completed_after", []):
            after[wave["reminders"]] = after.get(wave["reminders"], 0) + wave["completed"]
    # Only the keys known to be per unit or recomputed: an organisation-wide
    # figure added to progress() later must not reach a coordinator unnoticed.
    return {
        "campaign_id": data["campaign_id"],
        "status": data["status"],
        **totals,
        "completed_after": [{"reminders": n, "completed": after.get(n, 0)} for n in range(max(after) + 1)] if after else [],
        "units": units,
    }
