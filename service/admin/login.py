"""Logging in and out: argon2 passwords, rate limits, server-side sessions (see service/accounts/login_sessions.py)."""
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import LoginManager
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user
from sqlalchemy import select

from ..accounts import audit
from ..accounts import login_sessions
from ..models import User
from ..accounts.passwords import hash_password
from ..accounts.passwords import needs_rehash
from ..accounts.passwords import verify_password
from . import bp
from . import login_limits
from .guard import runtime
from .i18n import _

manager = LoginManager()
# Compared against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH = hash_password("not a real password, only for timing")
# Pages anyone may open.
PUBLIC = {"admin.login", "admin.set_language"}
# The progress page's own refresh is not the user doing something.
AUTO_REFRESH_HEADER = "X-Svar-Auto-Refresh"


@dataclass
class SessionUser:
    """The logged-in user as Flask-Login sees it: plain values, no database session."""

    id: int
    email: str
    role: str
    organisation_id: int
    organisation_name: str
    timezone: str
    language: str | None
    # The random key of this login's row in login_sessions: all the cookie holds.
    session_key: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.session_key


def session_user(user: User, session_key: str) -> SessionUser:
    organisation = user.organisation
    return SessionUser(
        id=user.id, email=user.email, role=user.role, organisation_id=user.organisation_id,
        organisation_name=organisation.name, timezone=organisation.timezone, language=user.language,
        session_key=session_key,
    )


def init_app(app):
    manager.init_app(app)
    manager.login_view = "admin.login"
    manager.login_message = None
    # "basic": a session copied to another browser is marked non-fresh; no IP binding behind proxies.
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(session_key: str):
        if not session_key:
            return None
        with runtime().transaction() as db:
            # The progress page's own refresh does not keep a session alive.
            row, expired = login_sessions.live(db, session_key, runtime().config, touch=not request.headers.get(AUTO_REFRESH_HEADER))
            g.svar_session_expired = expired
            user = db.get(User, row.user_id) if row is not None else None
            if user is None or not user.active:
                return None
            return session_user(user, session_key)


@bp.before_request
def _require_login():
    """Every admin page but the login needs a live session; expired ones go back to the login."""
    if request.endpoint in PUBLIC or request.endpoint is None:
        return None
    if current_user.is_authenticated:
        return None
    if g.pop("svar_session_expired", False):
        session.clear()
        flash(_("Your session has expired. Please log in again."), "info")
    return redirect(url_for("admin.login", next=_local_path(request.full_path)))


def _local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site under /admin; never another host (open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//"):
        return None
    return target.rstrip("?")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form: e-mail and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("admin.home"))
    form = {"email": request.form.get("email", "").strip()}
    errors = {}
    status = 200
    if request.method == "POST":
        errors, status = _attempt(form["email"], request.form.get("password", ""))
        if not errors:
            return redirect(_local_path(request.args.get("next")) or url_for("admin.home"))
    return render_template("admin/login.html", form=form, errors=errors), status


def _attempt(email: str, password: str) -> tuple[dict, int]:
    """Check the password within the rate limits; log in on success. Returns (errors, status)."""
    ip = request.remote_addr
    redis = runtime().redis
    email = email.lower()
    if not email or not password:
        errors = {}
        if not email:
            errors["email"] = _("Enter your e-mail address.")
        if not password:
            errors["password"] = _("Enter your password.")
        return errors, 400
    try:
        full = login_limits.reserve(redis, email, ip)
    except login_limits.LimiterUnavailable:
        return {"form": _("Logging in is not possible right now. Please try again in a few minutes.")}, 503
    if full:
        detail = "refused while locked" if full != login_limits.DEPLOYMENT else "refused: deployment-wide ceiling"
        audit.record_apart(runtime(), audit.LOGIN_LOCKED, actor=email, ip=ip, detail=detail)
        return {"form": _too_many()}, 429
    with runtime().transaction() as db:
        user = db.scalar(select(User).where(User.email == email))
        good = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        if good and user.active:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            audit.record(db, audit.LOGIN, user, ip=ip)
            signed_in = session_user(user, login_sessions.start(db, user.id))
        else:
            signed_in = None
    if signed_in is None:
        try:
            locked = login_limits.used_up(redis, email, ip)
        except login_limits.LimiterUnavailable:
            locked = True
        audit.record_apart(
            runtime(), audit.LOGIN_LOCKED if locked else audit.LOGIN_FAILED,
            organisation_id=user.organisation_id if user else None, actor=email, ip=ip,
            detail="inactive user" if user is not None and good else None,
        )
        if locked:
            return {"form": _too_many()}, 429
        return {"form": _("The e-mail address or the password is wrong.")}, 401
    try:
        login_limits.succeeded(redis, email, ip)
    except login_limits.LimiterUnavailable:
        pass
    # A fresh session for the new login: nothing from before carries over.
    language = session.get("language")
    session.clear()
    session.permanent = True
    login_user(signed_in)
    if language:
        session["language"] = language
    return {}, 200


def _too_many() -> str:
    return _(
        "Too many failed attempts. Logging in is blocked for %(minutes)s minutes; "
        "ask an administrator if you have forgotten your password.",
        minutes=login_limits.WINDOW_SECONDS // 60,
    )


@bp.post("/logout")
def logout():
    """End this session on the server, so a copy of the cookie is worth nothing either."""
    if current_user.is_authenticated:
        with runtime().transaction() as db:
            login_sessions.end(db, current_user.session_key)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("admin.login"))
