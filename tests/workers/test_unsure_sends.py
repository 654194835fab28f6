"""No status callbacks: a send whose answer was lost is looked up at Twilio before the sweeper sends it again,
a bounded number of times; a Telegram send (no lookup) only after a longer grace."""
import dataclasses
from datetime import timedelta

import pytest
from rq import SimpleWorker

from service.channels.twilio import TwilioChannel
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from tests import outbox_rows
from workers.schedule import sweep_outbox
from workers.send import SendDeferred
from workers.send import send_outbox


@pytest.fixture
def impatient(send_runtime):
    """The send runtime whose Twilio client gives up after 0.3 s: the double's stalls outlast it."""
    send_runtime.__dict__.setdefault("_channels", {})["sms"] = TwilioChannel(send_runtime.config, timeout=0.3)
    return send_runtime


def lose_the_answer(runtime, twilio_api, stall, phone=outbox_rows.PHONE):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(runtime, phone=phone)
    twilio_api.fail_next(stall)
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    with runtime.session() as session:
        assert session.get(OutboxMessage, outbox_id).status == "sending"
    return outbox_id, invitation_id


def sweep_and_work(runtime, later=0.0):
    after_grace = utcnow() + timedelta(seconds=runtime.config.sending_grace + 1 + later)
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


def test_a_lookup_that_keeps_failing_is_asked_a_bounded_number_of_times_then_the_message_is_sent(impatient, twilio_api, monkeypatch):
    monkeypatch.setattr(impatient, "config", dataclasses.replace(impatient.config, unsure_lookups=3))
    outbox_id, _ = lose_the_answer(impatient, twilio_api, "drop")
    # Twilio's API is down for lookups from here on (its sending is not).
    twilio_api.failing_lookups = 100
    for sweep in range(1, 4):
        assert sweep_and_work(impatient, later=60.0 * sweep) == 0
        assert (twilio_api.lookups, twilio_api.messages) == (sweep, [])
    # Past the cap: sent again without asking, once.
    assert sweep_and_work(impatient, later=240.0) == 1
    assert twilio_api.lookups == 3 and len(twilio_api.messages) == 1
    with impatient.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert (row.status, row.unsure_sweeps) == ("sent", 4)


def test_a_failed_lookup_ends_the_sweeps_lookups_and_the_rest_of_the_outbox_goes_on(impatient, twilio_api):
    lost = [lose_the_answer(impatient, twilio_api, "drop", phone=phone)[0] for phone in ("+4791234561", "+4791234562")]
    # Never queued (its job went with Redis): the sweeper brings it back whatever the lookups do.
    waiting, _ = outbox_rows.outbox_for_new_invitation(impatient, phone="+4791234568")
    twilio_api.failing_lookups = 1
    assert sweep_and_work(impatient) == 1
    # One lookup failed; the second row was not asked (each could cost a timeout), only held.
    assert twilio_api.lookups == 1
    assert [message["to"] for message in twilio_api.messages] == ["+4791234568"]
    # The next sweep asks again: neither was taken by Twilio, so both are sent, once.
    assert sweep_and_work(impatient, later=60.0) == 2
    assert twilio_api.lookups == 3 and len(twilio_api.messages) == 3
    with impatient.session() as session:
        assert [session.get(OutboxMessage, i).status for i in (*lost, waiting)] == ["sent"] * 3


def test_a_telegram_send_left_unsure_waits_the_longer_grace_and_is_counted(send_runtime):
    config = send_runtime.config
    claimed = utcnow() - timedelta(seconds=1)
    with send_runtime.transaction() as session:
        row = outbox_rows.outbox(session, send_runtime, kind="reply", channel="telegram", status="sending",
                                 address_enc=send_runtime.vault.encrypt("900000001"), updated_at=claimed)
        outbox_id = row.id
    assert config.unsure_grace > config.sending_grace
    # Past the sending grace, a live but slow worker may still record it: not sent again yet.
    assert sweep_outbox(now=claimed + timedelta(seconds=config.sending_grace + 1)) == 0
    assert sweep_outbox(now=claimed + timedelta(seconds=config.unsure_grace + 1)) == 1
    with send_runtime.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        # Sent again, and counted: a possible duplicate, as Telegram cannot say whether it took the first.
        assert (row.status, row.unsure_sweeps) == ("pending", 1)
