"""Units of the organisation: GET and POST /units."""
from sqlalchemy import select

from ..models import Unit
from . import bp
from .auth import api_call
from .auth import json_body
from .errors import ApiError
from .errors import invalid
from .values import read_id
from .values import read_text
from .values import unit_json


@bp.get("/units")
@api_call()
def list_units(session, user):
    """Every unit of the caller's organisation."""
    units = session.scalars(select(Unit).where(Unit.organisation_id == user.organisation_id).order_by(Unit.id))
    return {"units": [unit_json(unit) for unit in units]}


@bp.post("/units")
@api_call()
def create_unit(session, user):
    """A new unit, optionally under a parent unit."""
    body = json_body()
    name = read_text(body.get("name"), "name")
    parent_id = read_id(body.get("parent_id"), "parent_id", required=False)
    if parent_id is not None:
        parent = session.get(Unit, parent_id)
        if parent is None or parent.organisation_id != user.organisation_id:
            raise invalid("parent_id is not a unit of your organisation", field="parent_id")
    taken = session.scalar(select(Unit.id).where(Unit.organisation_id == user.organisation_id, Unit.name == name))
    if taken is not None:
        raise ApiError(409, "a unit with this name exists", details={"id": taken})
    unit = Unit(organisation_id=user.organisation_id, name=name, parent_id=parent_id)
    session.add(unit)
    session.flush()
    return unit_json(unit), 201
