"""The organisation's units (service area -> institution) and respondent groups."""
from sqlalchemy import select

from ..models import RespondentGroup
from ..models import Unit

# Deeper trees than this are a modelling mistake, not a municipality.
MAX_DEPTH = 8


class UnitError(ValueError):
    """A unit or group change that cannot be made; the message says why."""


class NameTaken(UnitError):
    """Another unit (or group) of the organisation already has this name."""

    def __init__(self, message: str, existing_id: int):
        super().__init__(message)
        self.existing_id = existing_id


def create_unit(session, organisation_id: int, name: str, parent_id: int | None = None) -> Unit:
    """A new unit, at the top or under a unit of the same organisation."""
    name = _name(name)
    _ensure_free(session, Unit, organisation_id, name)
    if parent_id is not None:
        _check_parent(session, organisation_id, None, parent_id)
    unit = Unit(organisation_id=organisation_id, name=name, parent_id=parent_id)
    session.add(unit)
    session.flush()
    return unit


def update_unit(session, unit: Unit, **changes) -> Unit:
    """Rename a unit or move it under another parent (None: to the top), keeping the tree a tree."""
    if "name" in changes:
        name = _name(changes["name"])
        if name != unit.name:
            _ensure_free(session, Unit, unit.organisation_id, name)
        unit.name = name
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        if parent_id is not None:
            _check_parent(session, unit.organisation_id, unit.id, parent_id)
        unit.parent_id = parent_id
    session.flush()
    return unit


def unit_tree(units: list[Unit]) -> list[dict]:
    """Units as nested {id, name, parent_id, children}, roots and children sorted by name."""
    nodes = {unit.id: {"id": unit.id, "name": unit.name, "parent_id": unit.parent_id, "children": []} for unit in units}
    roots = []
    for unit in units:
        parent = nodes.get(unit.parent_id)
        (parent["children"] if parent else roots).append(nodes[unit.id])
    for node in nodes.values():
        node["children"].sort(key=_by_name)
    return sorted(roots, key=_by_name)


def create_group(session, organisation_id: int, name: str) -> RespondentGroup:
    """A respondent group (e.g. one track of the introduction programme)."""
    name = _name(name)
    _ensure_free(session, RespondentGroup, organisation_id, name)
    group = RespondentGroup(organisation_id=organisation_id, name=name)
    session.add(group)
    session.flush()
    return group


def _check_parent(session, organisation_id: int, unit_id: int | None, parent_id: int):
    """The parent exists in the organisation, and `unit_id` is not the parent or above it."""
    parents = dict(session.execute(select(Unit.id, Unit.parent_id).where(Unit.organisation_id == organisation_id)).all())
    if parent_id not in parents:
        raise UnitError("parent_id is not a unit of your organisation")
    seen, current = [], parent_id
    while current is not None:
        if current == unit_id:
            raise UnitError("a unit cannot be placed under itself or one of its own units")
        seen.append(current)
        if len(seen) > MAX_DEPTH:
            raise UnitError(f"units nest at most {MAX_DEPTH} levels deep")
        current = parents.get(current)


def _ensure_free(session, model, organisation_id: int, name: str):
    taken = session.scalar(
        select(model.id).where(model.organisation_id == organisation_id, model.name == name)
    )
    if taken is not None:
        what = "unit" if model is Unit else "group"
        raise NameTaken(f"a {what} with this name exists", taken)


def _name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UnitError("name is required")
    if len(name.strip()) > 200:
        raise UnitError("name is longer than 200 characters")
    return name.strip()


def _by_name(node: dict):
    return (node["name"].casefold(), node["id"])
