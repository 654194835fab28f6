"""API tokens in the admin view: each user lists and revokes their own, administrators their organisation's."""
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from .. import audit
from ..auth_tokens import visible_token
from ..auth_tokens import visible_tokens
from . import bp
from .guard import transaction
from .i18n import _


@bp.get("/tokens")
def tokens():
    """The tokens the user may revoke: name, owner, created, last used, revoked; never the secret."""
    with transaction() as (session, me):
        return render_template("admin/tokens.html", nav="tokens", tokens=visible_tokens(session, me), me=me)


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
