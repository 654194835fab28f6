"""No status callbacks: a send whose answer was lost is looked up at Twilio before the sweeper sends it again."""
from datetime import timedelta

import pytest
from rq import SimpleWorker

from service.channels.twilio import TwilioChannel
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.queue import SEND_QUEUE
from tests import outbox_rows
from workers.schedule import sweep_outbox
from workers.send import SendDeferred
from workers.send import send_outbox


@pytest.fixture
def impatient(send_runtime):
    """The send runtime whose Twilio client gives up after 0.3 s: the double's stalls outlast it."""
    send_runtime.__dict__.setdefault("_channels", {})["sms"] = TwilioChannel(send_runtime.config, timeout=0.3)
    return send_runtime


def lose_the_answer(runtime, twilio_api, stall):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(runtime)
    twilio_api.fail_next(stall)
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    with runtime.session() as session:
        assert session.get(OutboxMessage, outbox_id).status == "sending"
    return outbox_id, invitation_id


def sweep_and_work(runtime):
    after_grace = utcnow() + timedelta(seconds=runtime.config.sending_grace + 1)
    swept = sweep_outbox(now=after_grace)
    SimpleWorker([runtime.queue(SEND_QUEUE)], connection=runtime.redis).work(burst=True)
    return swept


def test_a_message_twilio_took_is_recorded_with_its_sid_and_not_sent_again(impatient, twilio_api):
    outbox_id, invitation_id = lose_the_answer(impatient, twilio_api, "lost-answer")
    [taken] = twilio_api.messages
    assert sweep_and_work(impatient) == 0
    assert len(twilio_api.messages) == 1 and twilio_api.lookups == 1
    with impatient.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.provider_id, row.body, row.address_enc) == ("sent", taken["sid"], None, None)
        assert session.get(Invitation, invitation_id).status == "invited"


def test_a_message_twilio_never_got_is_sent_once_after_the_lookup(impatient, twilio_api):
    outbox_id, _ = lose_the_answer(impatient, twilio_api, "drop")
    assert twilio_api.messages == []
    assert sweep_and_work(impatient) == 1
    [sent] = twilio_api.messages
    with impatient.session() as session:
        assert (session.get(OutboxMessage, outbox_id).status, sent["to"]) == ("sent", outbox_rows.PHONE)


def test_an_earlier_message_with_the_same_text_does_not_count(impatient, twilio_api):
    # The same invitation text went to this number last week: not this row's send.
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(impatient)
    with impatient.session() as session:
        body = session.get(OutboxMessage, outbox_id).body
    twilio_api.messages.append({"account_sid": impatient.config.twilio_account_sid, "to": outbox_rows.PHONE,
                                "from": impatient.config.twilio_from, "body": body, "sid": "SM" + "0" * 32,
                                "date_created": "Mon, 30 Nov 2026 10:00:00 +0000", "date_sent": None, "status": "delivered"})
    twilio_api.fail_next("drop")
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    assert sweep_and_work(impatient) == 1
    assert len(twilio_api.messages) == 2
