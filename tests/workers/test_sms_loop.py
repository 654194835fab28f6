"""The whole SMS loop over loopback HTTP: app served for real, Twilio played by the double."""
import dataclasses
import threading
from datetime import timedelta

import pytest
from rq import SimpleWorker
from werkzeug.serving import make_server

from service import create_app
from service.infra import runtime as runtimes
from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderPolicy
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from tests import factories
from tests.doubles.twilio_api import post_signed
from tests.outbox_rows import ALWAYS_OPEN
from service.outbox.send_jobs import enqueue_send

PHONE = "+4791234567"


@pytest.fixture
def live(twilio_config, redis):
    """The web app on a loopback port, with PUBLIC_BASE_URL set to that address; yields its runtime."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    config = dataclasses.replace(twilio_config, public_base_url=f"http://127.0.0.1:{server.server_port}")
    holder["app"] = create_app(config, redis=redis)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield holder["app"].extensions["svar"]
    server.shutdown()
    runtimes.install(None)


def test_invitation_delivery_reply_and_answer(live, twilio_api):
    with live.transaction() as session:
        campaign = factories.open_campaign(session)
        # The worker sends on the real clock: a campaign open now, with no quiet hours to wait for.
        campaign.closes_at = utcnow() + timedelta(days=28)
        session.add(ReminderPolicy(campaign_id=campaign.id, **ALWAYS_OPEN))
        invitation, _code = factories.invite(session, live, campaign, phone=PHONE, status="created")
        row = OutboxMessage(
            channel="sms",
            address_enc=invitation.address_enc,
            body="Hei! Vil du svare?",
            kind="invitation",
            campaign_id=campaign.id,
            invitation_id=invitation.id,
        )
        session.add(row)
        session.flush()
        enqueue_send(session, [row.id])
    queue = live.queue(SEND_QUEUE)
    SimpleWorker([queue], connection=live.redis).work(burst=True)
    [sent] = twilio_api.messages
    assert sent["to"] == PHONE

    # Twilio reports delivery to the StatusCallback the send asked for.
    assert twilio_api.status_callback(sent["sid"], "delivered") == 200
    with live.session() as session:
        assert session.get(Invitation, invitation.id).status == "delivered"

    # The respondent answers; Twilio posts the SMS to the inbound webhook.
    inbound = {"MessageSid": "SM" + "e" * 32, "From": PHONE, "To": "+4759440000", "Body": "Hei"}
    url = f"{live.config.public_base_url}/webhooks/twilio/sms"
    assert post_signed(url, inbound, live.config.twilio_auth_token) == 200
    assert post_signed(url, inbound, "forged-token") == 403
    SimpleWorker([queue], connection=live.redis).work(burst=True)
    replies = twilio_api.messages[1:]
    assert replies and all(m["to"] == PHONE for m in replies)
    with live.session() as session:
        assert session.get(Invitation, invitation.id).status == "started"
