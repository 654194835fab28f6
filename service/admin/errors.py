"""Refusals as pages: a clear reason in the reader's language, the audit log told where it matters."""
from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..accounts import audit
from ..models import User
from . import bp
from .guard import runtime
from .i18n import LANGUAGES
from .i18n import _


def _messages():
    # Built per request so each is in the reader's language.
    return {
        400: (_("Bad request"), _("The request could not be understood. Go back and try again.")),
        403: (_("Not allowed"), _("Your role does not allow this. Ask an administrator if you need access.")),
        404: (_("Not found"), _("There is no such page, or it is not one you have access to.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        413: (
            _("The file is too large"),
            _("Uploads may be at most %(size)s MB. Split the list into smaller files and upload them one by one.",
              size=2),
        ),
        429: (_("Too many requests"), _("Please wait a few minutes and try again.")),
    }


@bp.errorhandler(CSRFError)
def _csrf(error):
    audit.record_apart(
        runtime(), audit.REFUSED, current_user.id if current_user.is_authenticated else None,
        object_type="form", object_id=request.path[:64], detail=f"CSRF: {error.description}"[:200],
        ip=request.remote_addr,
    )
    title = _("The form has expired")
    text = _(
        "For your security this form could not be accepted (it was open for more than %(hours)s hours, "
        "or it did not come from this site). Go back, reload the page and send it again.",
        hours=runtime().config.session_lifetime_hours,
    )
    return render_template("admin/error.html", title=title, text=text, status=400), 400


@bp.errorhandler(HTTPException)
def _http(error):
    title, text = _messages().get(error.code, (error.name, error.description))
    return render_template("admin/error.html", title=title, text=text, status=error.code), error.code


@bp.route("/<path:_anything>", methods=["GET", "POST"])
def unknown(_anything):
    """Unknown admin URLs get the admin's own 404 page."""
    abort(404)


@bp.post("/language")
def set_language():
    """Switch the admin view's language; remembered for the user, or the session before login."""
    language = request.form.get("language")
    if language not in LANGUAGES:
        abort(400)
    session["language"] = language
    if current_user.is_authenticated:
        with runtime().transaction() as db:
            db.get(User, current_user.id).language = language
    back = request.form.get("next") or ""
    return redirect(back if back.startswith("/admin") and not back.startswith("//") else url_for("admin.home"))
