"""The audit log: who launched, closed, exported, changed users, and who was refused."""
import logging

from flask import g
from sqlalchemy import select

from ..models import AuditEvent
from ..models import User

log = logging.getLogger(__name__)

# Actions, as stored; the admin view names them in the reader's language.
LAUNCHED = "launched"
CLOSED = "closed"
EXPORTED = "exported"
USER_CREATED = "user_created"
USER_CHANGED = "user_changed"
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_LOCKED = "login_locked"
REFUSED = "refused"
SESSIONS_ENDED = "sessions_ended"
TOKEN_CREATED = "token_created"
TOKEN_REVOKED = "token_revoked"
CAMPAIGN_CREATED = "campaign_created"
UNIT_CREATED = "unit_created"
GROUP_CREATED = "group_created"
RELEASE_REQUESTED = "release_requested"


def record(session, action: str, user: User | None = None, *, organisation_id=None, actor=None,
           object_type=None, object_id=None, detail=None, ip=None) -> AuditEvent:
    """Add one event to the session's transaction; it commits with the work it describes."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        organisation_id=user.organisation_id if user is not None else organisation_id,
        actor=(user.email if user is not None else actor or None),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=(detail or None) and str(detail)[:500],
        ip=ip,
    )
    session.add(event)
    return event


def record_apart(runtime, action: str, user_id: int | None = None, **fields):
    """Record in a transaction of its own: refusals whose request rolls back must still be logged."""
    try:
        with runtime.transaction() as session:
            user = session.get(User, user_id) if user_id is not None else None
            record(session, action, user, **fields)
    except Exception:
        # An audit write must never turn a refusal into a 500; the log line stays.
        log.exception("audit event %s could not be written", action)


def defer(action: str, user_id: int | None = None, **fields):
    """Record after this request's own transaction has ended (refusals roll it back; SQLite holds one writer)."""
    g.setdefault("svar_audit_pending", []).append((action, user_id, fields))


def init_app(app):
    """Write deferred events once the response is ready, whatever the view's transaction did."""
    @app.after_request
    def _write_deferred(response):
        for action, user_id, fields in g.pop("svar_audit_pending", []):
            record_apart(app.extensions["svar"], action, user_id, **fields)
        return response


def events(session, organisation_id: int, *, action: str | None = None, before_id: int | None = None, limit: int = 100):
    """The organisation's events, newest first; `before_id` pages back."""
    query = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
