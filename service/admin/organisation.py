"""Units and respondent groups of the organisation: list and add (administrators)."""
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy import select

from ..accounts import audit
from ..models import RespondentGroup
from ..models import Unit
from ..accounts.units import UnitError
from ..accounts.units import create_group
from ..accounts.units import create_unit
from ..accounts.units import unit_tree
from ..infra.url_ids import parsed_id
from . import bp
from .forms import Form
from .guard import admin_only
from .guard import transaction
from .i18n import _


def _page(session, user, unit_form=None, group_form=None, status=200):
    units = session.scalars(select(Unit).where(Unit.organisation_id == user.organisation_id)).all()
    groups = session.scalars(
        select(RespondentGroup).where(RespondentGroup.organisation_id == user.organisation_id).order_by(RespondentGroup.name)
    ).all()
    rows = []

    def walk(nodes, depth):
        for node in nodes:
            rows.append({"id": node["id"], "name": node["name"], "depth": depth})
            walk(node["children"], depth + 1)

    walk(unit_tree(list(units)), 0)
    return render_template(
        "admin/organisation.html", nav="organisation", units=rows, groups=groups,
        unit_form=unit_form or Form({}), group_form=group_form or Form({}),
    ), status


@bp.get("/organisation")
@admin_only
def organisation():
    with transaction() as (session, user):
        return _page(session, user)


@bp.post("/organisation/units")
@admin_only
def add_unit():
    with transaction() as (session, user):
        form = Form(request.form)
        name = form.text("name")
        parent_raw = (request.form.get("parent_id") or "").strip()
        form.values["parent_id"] = parent_raw
        if form.ok:
            try:
                unit = create_unit(session, user.organisation_id, name, parsed_id(parent_raw))
            except UnitError as error:
                form.fail("name", str(error))
        if not form.ok:
            return _page(session, user, unit_form=form, status=400)
        audit.record(session, audit.UNIT_CREATED, user, object_type="unit", object_id=unit.id, detail=unit.name,
                     ip=request.remote_addr)
    flash(_("Unit “%(name)s” added.", name=name), "success")
    return redirect(url_for("admin.organisation"))


@bp.post("/organisation/groups")
@admin_only
def add_group():
    with transaction() as (session, user):
        form = Form(request.form)
        name = form.text("group_name")
        if form.ok:
            try:
                group = create_group(session, user.organisation_id, name)
            except UnitError as error:
                form.fail("group_name", str(error))
        if not form.ok:
            return _page(session, user, group_form=form, status=400)
        audit.record(session, audit.GROUP_CREATED, user, object_type="group", object_id=group.id, detail=group.name,
                     ip=request.remote_addr)
    flash(_("Group “%(name)s” added.", name=name), "success")
    return redirect(url_for("admin.organisation"))
