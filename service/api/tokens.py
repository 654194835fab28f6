"""API tokens: list them (never the secret) and revoke them, each revocation in the audit log."""
from flask import request

from ..accounts import audit
from ..accounts.tokens import visible_token
from ..accounts.tokens import visible_tokens
from . import bp
from .auth import READERS
from .auth import api_call
from .errors import not_found
from .values import iso


def token_json(row) -> dict:
    """A token as the API shows it: name and times, never the secret or its digest."""
    return {
        "id": row.id, "name": row.name, "user": row.user.email, "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at), "revoked": bool(row.revoked),
    }


@bp.get("/tokens")
@api_call(roles=READERS)
def list_tokens(session, user):
    """The caller's tokens; an administrator's are the organisation's."""
    return {"tokens": [token_json(row) for row in visible_tokens(session, user)]}


@bp.delete("/tokens/<int:token_id>")
@api_call(roles=READERS)
def revoke(session, user, token_id):
    """Revoke one token the caller may see; 404 for any other."""
    row = visible_token(session, user, token_id)
    if row is None:
        raise not_found("token")
    if not row.revoked:
        row.revoked = True
        audit.record(session, audit.TOKEN_REVOKED, user, object_type="api_token", object_id=row.id,
                     detail=f"{row.name} ({row.user.email}), via the API", ip=request.remote_addr)
    return token_json(row)
