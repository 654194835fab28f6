"""Bearer authentication and roles: every API call runs in one transaction as one user."""
import functools

from flask import current_app
from flask import g
from flask import request

from ..auth_tokens import authenticate
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
            with runtime.transaction() as session:
                header = request.headers.get("Authorization")
                user = authenticate(session, header)
                if user is None:
                    raise _unauthorized(bool(header))
                if user.role not in roles:
                    raise ApiError(403, "your role may not do this")
                g.api_user_id = user.id
                return view(session, user, **kwargs)

        return wrapper

    return decorate


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
