"""Users of the organisation (administrators only): create, set role, assign units, deactivate."""
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy import select

from ..accounts import audit
from ..accounts import login_sessions
from ..accounts.access import ROLES
from ..accounts.access import assign_units
from ..accounts.access import assigned_units
from ..models import Unit
from ..models import User
from ..accounts.passwords import MIN_LENGTH
from ..accounts.passwords import hash_password
from . import bp
from .forms import Form
from .guard import admin_only
from .guard import runtime
from .guard import transaction
from .i18n import _


def _units(session, user):
    return session.scalars(select(Unit).where(Unit.organisation_id == user.organisation_id).order_by(Unit.name)).all()


def _read(form: Form, session, me, editing: User | None):
    """The role, unit ids and password of a user form; errors recorded on `form`."""
    role = form.choice("role", ROLES)
    unit_ids = form.ids("unit_ids")
    known = {unit.id for unit in _units(session, me)}
    if not set(unit_ids) <= known:
        form.fail("unit_ids", _("Choose units of your organisation only."))
    if role == "coordinator" and not unit_ids:
        form.fail("unit_ids", _("A coordinator needs at least one unit to follow."))
    password = request.form.get("password", "")
    form.values["password"] = ""
    if (editing is None or password) and len(password) < MIN_LENGTH:
        form.fail("password", _("At least %(n)s characters. A few unrelated words make a good password.", n=MIN_LENGTH))
    return role, unit_ids, password


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    """The user list, and the form to add one."""
    with transaction() as (session, me):
        form = Form(request.form)
        status = 200
        if request.method == "POST":
            email = (form.text("email", max_length=254) or "").lower()
            if email and ("@" not in email or " " in email):
                form.fail("email", _("Enter an e-mail address like name@kommune.no."))
            elif email and session.scalar(select(User.id).where(User.email == email)) is not None:
                form.fail("email", _("A user with this e-mail address exists already."))
            role, unit_ids, password = _read(form, session, me, None)
            if form.ok:
                user = User(organisation_id=me.organisation_id, email=email, role=role, password_hash=hash_password(password))
                session.add(user)
                session.flush()
                units = assign_units(session, user, unit_ids if role == "coordinator" else [])
                audit.record(session, audit.USER_CREATED, me, object_type="user", object_id=user.id,
                             detail=f"{email}: {role}; units: {', '.join(unit.name for unit in units) or '-'}",
                             ip=request.remote_addr)
                flash(_("User %(email)s created. Give them their password in person or by phone, not by e-mail.", email=email), "success")
                return redirect(url_for("admin.users"))
            status = 400
        else:
            form.values = {"role": "coordinator"}
        people = session.scalars(select(User).where(User.organisation_id == me.organisation_id).order_by(User.email)).all()
        rows = [{"user": person, "units": [unit.name for unit in assigned_units(session, person)]} for person in people]
        return render_template(
            "admin/users.html", nav="users", rows=rows, form=form.values, errors=form.errors, units=_units(session, me),
            roles=ROLES, min_length=MIN_LENGTH,
        ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def user(user_id):
    """Change a user's role, units, password or whether they may log in."""
    with transaction() as (session, me):
        person = _colleague(session, me, user_id)
        form = Form(request.form)
        status = 200
        if request.method == "POST":
            role, unit_ids, password = _read(form, session, me, person)
            active = request.form.get("active") == "1"
            form.values["active"] = "1" if active else ""
            if person.id == me.id and (role != "admin" or not active):
                # Nobody locks themselves out; another administrator can do it.
                form.fail("role", _("You cannot remove your own administrator role or access."))
            if form.ok:
                changes = []
                if role != person.role:
                    changes.append(f"role {person.role} -> {role}")
                    person.role = role
                if active != person.active:
                    changes.append("activated" if active else "deactivated")
                    person.active = active
                if password:
                    person.password_hash = hash_password(password)
                    changes.append("password set")
                if password or not active:
                    # A new password or a closed account ends every session, the copies of a cookie too.
                    login_sessions.end_all(session, person.id)
                before = {unit.name for unit in assigned_units(session, person)}
                after = {unit.name for unit in assign_units(session, person, unit_ids if role == "coordinator" else [])}
                if before != after:
                    changes.append(f"units: {', '.join(sorted(after)) or '-'}")
                if changes:
                    audit.record(session, audit.USER_CHANGED, me, object_type="user", object_id=person.id,
                                 detail=f"{person.email}: {'; '.join(changes)}", ip=request.remote_addr)
                flash(_("Changes to %(email)s saved.", email=person.email), "success")
                return redirect(url_for("admin.users"))
            status = 400
        else:
            form.values = {
                "role": person.role,
                "unit_ids": [str(unit.id) for unit in assigned_units(session, person)],
                "active": "1" if person.active else "",
            }
        return render_template(
            "admin/user.html", nav="users", person=person, form=form.values, errors=form.errors, units=_units(session, me),
            roles=ROLES, min_length=MIN_LENGTH, live_sessions=login_sessions.count_live(session, person.id, runtime().config),
        ), status


@bp.post("/users/<int:user_id>/logout-everywhere")
@admin_only
def logout_everywhere(user_id):
    """End every session of a user at once (a lost laptop, a shared computer); audited."""
    with transaction() as (session, me):
        person = _colleague(session, me, user_id)
        ended = login_sessions.end_all(session, person.id)
        audit.record(session, audit.SESSIONS_ENDED, me, object_type="user", object_id=person.id,
                     detail=f"{person.email}: {ended} session(s) ended", ip=request.remote_addr)
        flash(_("%(email)s is logged out everywhere.", email=person.email), "success")
        return redirect(url_for("admin.users") if person.id != me.id else url_for("admin.login"))


def _colleague(session, me, user_id: int) -> User:
    """A user of my organisation, or 404 (another organisation's users do not exist for me)."""
    person = session.get(User, user_id)
    if person is None or person.organisation_id != me.organisation_id:
        abort(404)
    return person
