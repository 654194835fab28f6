"""What a provider webhook answers when something fails: a short status, never a stack trace or a body."""
import logging
import traceback

from flask import Response
from flask import request

log = logging.getLogger(__name__)


def unexpected(error: Exception) -> Response:
    """A bug: 500 in plain text, logged by type and place only (exception texts can quote the request)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    log.error("webhook %s failed: %s at %s", request.path, type(error).__name__, where)
    return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")


def refused(provider: str, reason: str):
    """Log a request that did not prove it came from the provider; the signature or token itself stays out."""
    log.warning("%s webhook refused: %s (from %s)", provider, reason, request.remote_addr)


def register(blueprint):
    """Every error the blueprint's views do not answer themselves becomes a plain 500."""
    blueprint.register_error_handler(Exception, unexpected)
