"""GET /healthz: the database and Redis answer; and 503, not a stack trace, while either is down."""
import logging

from flask import Blueprint
from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
# Seconds a client should wait before trying again during an outage.
RETRY_AFTER = "30"


def install_outage_answers(app):
    """Answer 503 with a sentence when the database or Redis is unreachable mid-request."""

    def unavailable(what):
        def answer(exc):
            log.warning("%s unavailable: %s", what, type(exc).__name__)
            body = {"error": f"The service is temporarily unavailable ({what} down); try again shortly."}
            return body, 503, {"Retry-After": RETRY_AFTER}

        return answer

    app.register_error_handler(OperationalError, unavailable("database"))
    app.register_error_handler(RedisConnectionError, unavailable("redis"))
    app.register_error_handler(RedisTimeoutError, unavailable("redis"))


@bp.get("/healthz")
def healthz():
    runtime = current_app.extensions["svar"]
    checks = {}
    try:
        with runtime.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    try:
        runtime.redis.ping()
        checks["redis"] = "ok"
    except Exception:
        checks["redis"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    return {"status": "ok" if healthy else "degraded", **checks}, 200 if healthy else 503
