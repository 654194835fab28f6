"""What a provider webhook answers to a body too large or a failure: a short status, never a stack trace or a body."""
import logging
import traceback

from flask import Response
from flask import abort
from flask import request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
# Twilio's forms and Telegram's updates are a few kilobytes; 64 KiB leaves room and stops a flood early.
MAX_BODY = 64 * 1024


def plain_error(error: HTTPException) -> Response:
    """Short plain-text errors: providers read the status, nobody reads the page."""
    return Response(f"{error.code} {error.name}\n", status=error.code, mimetype="text/plain")


def unexpected(error: Exception) -> Response:
    """A bug: 500 in plain text, logged by type and place only (exception texts can quote the request)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    log.error("webhook %s failed: %s at %s", request.path, type(error).__name__, where)
    return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")


def refused(provider: str, reason: str):
    """Log a request that did not prove it came from the provider; the signature or token itself stays out."""
    log.warning("%s webhook refused: %s (from %s)", provider, reason, request.remote_addr)


def limit_body():
    """Refuse a large body before it is read or its signature checked; a chunked one stops at the limit."""
    request.max_content_length = MAX_BODY
    if request.content_length is not None and request.content_length > MAX_BODY:
        abort(413)


def register(blueprint):
    """Small bodies only, HTTP errors in plain text, and every error the blueprint's views do not answer themselves a plain 500."""
    blueprint.before_request(limit_body)
    blueprint.register_error_handler(HTTPException, plain_error)
    blueprint.register_error_handler(Exception, unexpected)
