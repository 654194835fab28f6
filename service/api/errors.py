"""JSON errors for the API: {"error": {"code", "message", "details"?}} with a fitting status."""
import logging

from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

log = logging.getLogger(__name__)

PREFIX = "/api/"

# Stable, machine-readable codes for the statuses the API answers with.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiError(Exception):
    """An error answered as JSON; raise it anywhere in a view."""

    def __init__(self, status: int, message: str, code: str | None = None, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.details = details
        self.headers = headers or {}


def invalid(message: str, **details) -> ApiError:
    """A 400 validation error; `details` name the offending fields."""
    return ApiError(400, message, "validation_error", details or None)


def not_found(what: str = "resource") -> ApiError:
    """404; used as well for other organisations' objects, so their existence is not revealed."""
    return ApiError(404, f"{what} not found")


def error_response(error: ApiError):
    body = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return {"error": body}, error.status, error.headers


def from_http(error: HTTPException):
    """A Werkzeug error (404 route, 405, 413, malformed body) as an API error."""
    headers = {}
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    message = error.description if error.code != 500 else "internal error"
    return error_response(ApiError(error.code or 500, message, headers=headers))


def register(bp):
    """Install the handlers: in the blueprint's views, and app-wide for paths under /api/."""

    @bp.errorhandler(ApiError)
    def _api_error(error):
        return error_response(error)

    @bp.errorhandler(InternalServerError)
    def _internal(error):
        # Flask has already logged the original exception with its traceback.
        return error_response(ApiError(500, "internal error"))

    @bp.errorhandler(HTTPException)
    def _http(error):
        return from_http(error)

    @bp.app_errorhandler(HTTPException)
    def _routing(error):
        # Unknown routes and wrong methods never reach the blueprint; answer
        # them as JSON under /api/ and leave every other area's pages alone.
        if request.path.startswith(PREFIX):
            return from_http(error)
        return error
