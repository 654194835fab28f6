"""GET /healthz: the database and Redis answer."""
from flask import Blueprint
from flask import current_app
from sqlalchemy import text

bp = Blueprint("health", __name__)


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
