"""The phone simulator: a web page that texts the service like a phone would."""
import re
import uuid
from datetime import datetime
from datetime import timezone

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request

from . import channel_for
from ..conversation.inbound import InboundMessage
from ..conversation.runner import handle_inbound

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
# Simulated numbers are opaque ids the page makes up; nothing like a real phone.
ADDRESS = re.compile(r"^sim-[a-z0-9]{6,32}$")
MAX_TEXT = 1600


def _address(payload) -> str:
    address = str(payload.get("phone", ""))
    if not ADDRESS.match(address):
        abort(400, "phone must look like sim-xxxxxx")
    return address


@bp.get("")
def page():
    return render_template("simulator.html")


@bp.post("/messages")
def send():
    """The simulated phone sends a text; it runs through the same runner as SMS."""
    payload = request.get_json(silent=True) or {}
    text = str(payload.get("text", ""))[:MAX_TEXT]
    message = InboundMessage(channel="simulator", external_id=uuid.uuid4().hex, address=_address(payload), text=text)
    handle_inbound(current_app.extensions["svar"], message, datetime.now(timezone.utc))
    return {"status": "sent"}, 202


@bp.post("/inbox")
def inbox():
    """What the service has sent to the simulated phone, from index `after` on."""
    payload = request.get_json(silent=True) or {}
    after = max(int(payload.get("after", 0) or 0), 0)
    channel = channel_for("simulator", current_app.extensions["svar"])
    return {"messages": channel.inbox(_address(payload), after)}
