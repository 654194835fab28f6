"""What every admin page asks first: which user, may they do this, may they see that campaign."""
import functools
from contextlib import contextmanager

from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user

from ..accounts import audit
from ..accounts.access import ADMIN
from ..accounts.access import can_see_campaign
from ..models import Campaign
from ..models import User


def runtime():
    return current_app.extensions["svar"]


@contextmanager
def transaction():
    """The request's unit of work: (session, the logged-in User row)."""
    with runtime().transaction() as session:
        user = session.get(User, current_user.id)
        if user is None or not user.active:
            abort(403)
        yield session, user


def refuse(status: int, reason: str, object_type: str | None = None, object_id=None):
    """Log the refusal in the audit log (in its own transaction) and answer `status`."""
    user_id = current_user.id if current_user.is_authenticated else None
    audit.defer(
        audit.REFUSED, user_id,
        object_type=object_type or "page", object_id=object_id if object_id is not None else request.path[:64],
        detail=reason, ip=request.remote_addr,
    )
    abort(status)


def admin_only(view):
    """Administrators only; a coordinator gets 403 and an audit entry."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role != ADMIN:
            refuse(403, "administrators only")
        return view(*args, **kwargs)

    return wrapper


def campaign_or_404(session, user: User, campaign_id: int) -> Campaign:
    """The campaign if `user` may see it; otherwise 404, and a guess at a foreign campaign is audited."""
    campaign = session.get(Campaign, campaign_id)
    if not can_see_campaign(session, user, campaign):
        # The same 404 for "no such campaign" and "not yours": nothing to learn by guessing.
        refuse(404, "campaign not visible to this user", "campaign", campaign_id)
    return campaign
