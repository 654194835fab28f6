"""The audit log page: who launched, closed, exported, changed users, and who was refused."""
from flask import render_template
from flask import request

from ..accounts import audit
from ..infra.url_ids import query_id
from . import bp
from .guard import admin_only
from .guard import transaction

PAGE = 100
ACTIONS = (
    audit.LAUNCHED, audit.CLOSED, audit.EXPORTED, audit.USER_CREATED, audit.USER_CHANGED, audit.REFUSED,
    audit.LOGIN, audit.LOGIN_FAILED, audit.LOGIN_LOCKED, audit.CAMPAIGN_CREATED, audit.UNIT_CREATED, audit.GROUP_CREATED,
    audit.RELEASE_REQUESTED, audit.SESSIONS_ENDED, audit.TOKEN_CREATED, audit.TOKEN_REVOKED,
)


@bp.get("/audit")
@admin_only
def audit_log():
    """The newest events first, a hundred a page, optionally of one kind."""
    action = request.args.get("action") or None
    if action not in ACTIONS:
        action = None
    before_id = query_id(request.args, "before")
    with transaction() as (session, user):
        events = audit.events(session, user.organisation_id, action=action, before_id=before_id, limit=PAGE + 1)
        more = len(events) > PAGE
        events = events[:PAGE]
        return render_template(
            "admin/audit.html", nav="audit", events=events, action=action, actions=ACTIONS,
            older=events[-1].id if more and events else None,
        )
