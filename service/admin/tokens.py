"""API tokens in the admin view: each user lists and revokes their own; administrators their organisation's, and create them."""
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy import select

from ..accounts import audit
from ..accounts.access import ADMIN
from ..accounts.tokens import create_token
from ..accounts.tokens import digest
from ..accounts.tokens import visible_token
from ..accounts.tokens import visible_tokens
from ..models import ApiToken
from ..models import User
from . import bp
from .forms import Form
from .guard import admin_only
from .guard import transaction
from .i18n import _


def _owners(session, me: User) -> list[User]:
    """Whom an administrator may create a token for: the active users of their organisation (as the CLI: any active user)."""
    return list(session.scalars(
        select(User).where(User.organisation_id == me.organisation_id, User.active.is_(True)).order_by(User.email)
    ))


def _page(session, me, form=None, errors=None, created=None, status=200):
    owners = [(str(user.id), user.email) for user in _owners(session, me)] if me.role == ADMIN else []
    return render_template(
        "admin/tokens.html", nav="tokens", tokens=visible_tokens(session, me), me=me, owners=owners,
        form=form or {"user_id": str(me.id)}, errors=errors or {}, created=created,
    ), status


@bp.get("/tokens")
def tokens():
    """The tokens the user may revoke: name, owner, created, last used, revoked; never the secret."""
    with transaction() as (session, me):
        return _page(session, me)


@bp.post("/tokens")
@admin_only
def create_api_token():
    """Create a token for a user of the organisation; its secret is on this one page only (no-store). Audited."""
    with transaction() as (session, me):
        form = Form(request.form)
        name = form.text("name", max_length=100)
        owners = {str(user.id): user for user in _owners(session, me)}
        owner_id = form.choice("user_id", owners)
        if not form.ok:
            return _page(session, me, form.values, form.errors, status=400)
        owner = owners[owner_id]
        token = create_token(session, owner, name)
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest(token)))
        audit.record(session, audit.TOKEN_CREATED, me, object_type="api_token", object_id=token_id,
                     detail=f"{name} ({owner.email})", ip=request.remote_addr)
        # Rendered, not redirected: the secret must not sit in a flash message in the cookie.
        return _page(session, me, created={"token": token, "name": name, "email": owner.email})


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id):
    """Revoke one token; it answers 401 from the next API call on. Audited."""
    with transaction() as (session, me):
        row = visible_token(session, me, token_id)
        if row is None:
            # Another user's or organisation's token: as if it did not exist.
            abort(404)
        if not row.revoked:
            row.revoked = True
            audit.record(session, audit.TOKEN_REVOKED, me, object_type="api_token", object_id=row.id,
                         detail=f"{row.name} ({row.user.email})", ip=request.remote_addr)
        flash(_("The token %(name)s is revoked.", name=row.name), "success")
        return redirect(url_for("admin.tokens"))
