"""Bearer authentication and roles: every API call runs in one transaction as one user."""
import functools

from flask import current_app
from flask import g
from flask import request

from ..accounts import audit
from ..accounts.access import can_see_campaign
from ..accounts.tokens import authenticate
from . import token_limits
from .errors import ApiError

ADMIN = ("admin",)
# Coordinators follow campaigns; they never change them.
READERS = ("admin", "coordinator")


def api_call(roles=ADMIN):
    """Decorate a view `view(session, user, **url_args)`: authenticated, scoped, one transaction."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            runtime = current_app.extensions["svar"]
            header = request.headers.get("Authorization")
            with runtime.transaction() as session:
                # The token first: a valid one works whatever others sent from this address.
                user = authenticate(session, header)
                if user is None:
                    if header:
                        _count_failure(runtime)
                    raise _unauthorized(bool(header))
                if user.role not in roles:
                    refused(user, "role")
                    raise ApiError(403, "your role may not do this")
                g.api_user_id = user.id
                return view(session, user, **kwargs)

        return wrapper

    return decorate


def _count_failure(runtime):
    """Count a wrong token; 429 once the address has sent too many lately."""
    wait = token_limits.failed(runtime.redis, request.remote_addr)
    if wait:
        raise ApiError(
            429, "too many invalid tokens from this address; try again later", headers={"Retry-After": str(wait)}
        )


def refused(user, reason: str):
    """Log a refused call in the audit log; the request's own transaction rolls back."""
    audit.defer(
        audit.REFUSED, user.id,
        object_type="api", object_id=f"{request.method} {request.path}"[:64], detail=reason, ip=request.remote_addr,
    )


def check_campaign(session, user, campaign):
    """The campaign if `user` may see it (their organisation; a coordinator's units); else 404."""
    if not can_see_campaign(session, user, campaign):
        if campaign is not None and campaign.organisation_id == user.organisation_id:
            refused(user, "campaign outside the coordinator's units")
        # 404 for another organisation's or unit's campaign: its existence is not revealed.
        raise ApiError(404, "campaign not found")
    return campaign


def _unauthorized(token_given: bool) -> ApiError:
    challenge = 'Bearer realm="svar"'
    if token_given:
        # RFC 6750: say the token was the problem, so clients do not retry it.
        challenge += ', error="invalid_token"'
        message = "the bearer token is invalid or revoked"
    else:
        message = "a bearer token is required"
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def json_body() -> dict:
    """The request's JSON object, or 415 for another media type and 400 for bad JSON."""
    if not request.is_json:
        raise ApiError(415, "send JSON with Content-Type: application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "the body is not valid JSON", "validation_error")
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", "validation_error")
    return body
