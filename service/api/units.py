"""The organisation's units (a tree: service area -> institution) and respondent groups."""
from sqlalchemy import select

from ..models import RespondentGroup
from ..models import Unit
from ..accounts.units import NameTaken
from ..accounts.units import UnitError
from ..accounts.units import create_group
from ..accounts.units import create_unit
from ..accounts.units import unit_tree
from ..accounts.units import update_unit
from . import bp
from .auth import READERS
from .auth import api_call
from .auth import json_body
from .errors import ApiError
from .errors import invalid
from .errors import not_found
from .values import read_id
from .values import read_text
from .values import unit_json


def unit_refusal(error: UnitError, field: str) -> ApiError:
    """409 for a name in use (with the existing id), 400 for anything else."""
    if isinstance(error, NameTaken):
        return ApiError(409, str(error), details={"id": error.existing_id})
    return invalid(str(error), field=field)


@bp.get("/units")
@api_call()
def list_units(session, user):
    """Every unit of the caller's organisation, flat, each with its parent_id."""
    units = session.scalars(select(Unit).where(Unit.organisation_id == user.organisation_id).order_by(Unit.id))
    return {"units": [unit_json(unit) for unit in units]}


@bp.get("/units/tree")
@api_call()
def units_tree(session, user):
    """The organisation's units nested under their parents."""
    units = session.scalars(select(Unit).where(Unit.organisation_id == user.organisation_id)).all()
    return {"units": unit_tree(list(units))}


@bp.post("/units")
@api_call()
def post_unit(session, user):
    """A new unit, optionally under a parent unit."""
    body = json_body()
    name = read_text(body.get("name"), "name")
    parent_id = read_id(body.get("parent_id"), "parent_id", required=False)
    try:
        unit = create_unit(session, user.organisation_id, name, parent_id)
    except UnitError as error:
        raise unit_refusal(error, "parent_id") from None
    return unit_json(unit), 201


@bp.patch("/units/<int:unit_id>")
@api_call()
def patch_unit(session, user, unit_id):
    """Rename a unit, or move it under another parent (parent_id null: to the top)."""
    unit = session.get(Unit, unit_id)
    if unit is None or unit.organisation_id != user.organisation_id:
        raise not_found("unit")
    body = json_body()
    changes = {}
    if "name" in body:
        changes["name"] = read_text(body["name"], "name")
    if "parent_id" in body:
        changes["parent_id"] = read_id(body["parent_id"], "parent_id", required=False)
    if not changes:
        raise invalid("nothing to change: give name or parent_id")
    try:
        update_unit(session, unit, **changes)
    except UnitError as error:
        raise unit_refusal(error, "parent_id") from None
    return unit_json(unit)


@bp.get("/groups")
@api_call(READERS)
def list_groups(session, user):
    """The organisation's respondent groups."""
    groups = session.scalars(
        select(RespondentGroup).where(RespondentGroup.organisation_id == user.organisation_id).order_by(RespondentGroup.id)
    )
    return {"groups": [{"id": group.id, "name": group.name} for group in groups]}


@bp.post("/groups")
@api_call()
def post_group(session, user):
    """A new respondent group (e.g. a track of the introduction programme)."""
    name = read_text(json_body().get("name"), "name")
    try:
        group = create_group(session, user.organisation_id, name)
    except UnitError as error:
        raise unit_refusal(error, "name") from None
    return {"id": group.id, "name": group.name}, 201
