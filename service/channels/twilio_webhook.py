"""Provider webhooks: Twilio inbound SMS and delivery status."""
import logging

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import request
from sqlalchemy.exc import SQLAlchemyError

from ..dispatch import delivery
from ..conversation import runner
from . import webhook_errors
from . import channel_for
from .twilio import REFERENCE
from ..infra.url_ids import query_id
from .twilio import is_sid
from .twilio import normalise
from ..models import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# Replies go out through the REST API from the send worker, so Twilio gets
# nothing to say here: no TwiML round trips, no reply lost with a timeout.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _runtime():
    return current_app.extensions["svar"]


def _verified_sms_channel():
    channel = channel_for("sms", _runtime())
    if not channel.verify(request):
        webhook_errors.refused("Twilio", "bad or missing X-Twilio-Signature")
        # No detail: a forger learns nothing from the answer.
        abort(403)
    return channel


@bp.post("/twilio/sms")
def twilio_sms():
    """One inbound SMS: verify, parse, hand to the runner, answer with empty TwiML."""
    channel = _verified_sms_channel()
    try:
        messages = channel.parse(request)
    except ValueError:
        abort(400)
    now = utcnow()
    try:
        for message in messages:
            runner.handle_inbound(_runtime(), message, now)
    except SQLAlchemyError as exc:
        # The receipt rolled back with the step, so Twilio's retry is safe.
        log.error("inbound SMS not applied: %s", type(exc).__name__)
        abort(503)
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/twilio/status")
def twilio_status():
    """A delivery report for a message we sent."""
    _verified_sms_channel()
    sid = request.form.get("MessageSid", "").strip()
    status = request.form.get("MessageStatus", "").strip()
    if not is_sid(sid) or not status:
        abort(400)
    error_code = request.form.get("ErrorCode", "").strip()
    # Twilio's error codes are numbers; anything else would not fit the column, and says nothing.
    error_code = error_code if error_code.isascii() and error_code.isdigit() and len(error_code) <= 32 else None
    # Our outbox id, in the callback URL we gave Twilio (and which it signed).
    # A ref that is no id of ours (negative, huge, not a number) was never signed by us for a row.
    reference = query_id(request.args, REFERENCE)
    recipient_hash = _recipient_hash(request.form.get("To", "")) if error_code == delivery.UNSUBSCRIBED else None
    try:
        with _runtime().transaction() as session:
            delivery.record_status(
                session, sid, status, error_code, utcnow(), None if reference is None else str(reference), recipient_hash
            )
    except SQLAlchemyError as exc:
        log.error("delivery status not recorded: %s", type(exc).__name__)
        abort(503)
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _recipient_hash(to: str) -> str | None:
    """The keyed hash of a status report's To (signed by Twilio), or None if it is no phone number."""
    try:
        return _runtime().vault.address_hash("sms", normalise(to.strip()))
    except ValueError:
        return None


webhook_errors.register(bp)
