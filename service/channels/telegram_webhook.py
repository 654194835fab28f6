"""POST /webhooks/telegram: the secret token, one update, and at most one Bot API call in the answer."""
import logging

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request
from sqlalchemy.exc import SQLAlchemyError

from . import webhook_errors
from . import channel_for
from ..models import utcnow
from .telegram_updates import handle_update

log = logging.getLogger(__name__)

bp = Blueprint("telegram_webhook", __name__, url_prefix="/webhooks")


@bp.post("/telegram")
def telegram():
    """Verify the secret token, apply the update, and let Telegram make the edit we answer with."""
    runtime = current_app.extensions["svar"]
    if not channel_for("telegram", runtime).verify(request):
        webhook_errors.refused("Telegram", "wrong or missing secret token")
        abort(403)
    data = request.get_json(silent=True)
    try:
        call = handle_update(runtime, data, utcnow())
    except ValueError:
        abort(400)
    except SQLAlchemyError as exc:
        # The receipt rolled back with the step, so Telegram's retry is safe.
        log.error("Telegram update not applied: %s", type(exc).__name__)
        abort(503)
    if call is None:
        return Response(status=200)
    # Telegram performs a method given in the webhook's answer: no round trip of ours.
    return jsonify(call)


webhook_errors.register(bp)
