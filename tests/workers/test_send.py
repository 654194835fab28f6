"""The send job against the Twilio API double over real HTTP."""
import dataclasses

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from service.channels.twilio import TwilioChannel
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.infra.queue import SEND_QUEUE
from tests import outbox_rows
from workers import send_gate
from workers.send import SendDeferred
from service.outbox.send_jobs import enqueue_send
from workers.send import send_outbox


def load(runtime, outbox_id):
    with runtime.session() as session:
        return session.get(OutboxMessage, outbox_id)


def invitation_of(runtime, invitation_id):
    with runtime.session() as session:
        return session.get(Invitation, invitation_id)


def test_sends_marks_sent_and_erases(send_runtime, twilio_api):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime)
    assert send_outbox([outbox_id]) == {"sent": 1}
    [sent] = twilio_api.messages
    assert (sent["to"], sent["body"], sent["from"]) == (outbox_rows.PHONE, "Hei! Svar på undersøkelsen.", "+4759440000")
    row = load(send_runtime, outbox_id)
    assert (row.status, row.provider_id, row.attempts) == ("sent", sent["sid"], 1)
    assert row.body is None and row.address_enc is None and row.sent_at is not None
    invitation = invitation_of(send_runtime, invitation_id)
    assert invitation.status == "invited" and invitation.invited_at is not None


def test_a_rerun_sends_nothing_twice(send_runtime, twilio_api):
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    send_outbox([outbox_id])
    assert send_outbox([outbox_id, outbox_id]) == {"skipped": 1}
    assert len(twilio_api.messages) == 1
    assert load(send_runtime, outbox_id).attempts == 1


def test_a_reply_leaves_the_invitation_alone(send_runtime, twilio_api):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime, kind="reply")
    send_outbox([outbox_id])
    assert invitation_of(send_runtime, invitation_id).status == "created"


def test_through_a_messaging_service(send_runtime, twilio_api):
    service_sid = "MG" + "2" * 32
    send_runtime.config = dataclasses.replace(send_runtime.config, twilio_messaging_service_sid=service_sid)
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    send_outbox([outbox_id])
    [sent] = twilio_api.messages
    assert (sent["messaging_service_sid"], sent["from"]) == (service_sid, None)


@pytest.mark.parametrize("kind", ["429", "500"])
def test_throttled_or_down_goes_back_to_pending_and_raises(send_runtime, twilio_api, kind):
    first, _ = outbox_rows.outbox_for_new_invitation(send_runtime, phone="+4791234567")
    second, _ = outbox_rows.outbox_for_new_invitation(send_runtime, phone="+4791234568")
    twilio_api.fail_next(kind)
    with pytest.raises(SendDeferred):
        send_outbox([first, second])
    row = load(send_runtime, first)
    assert (row.status, row.attempts, row.error_code) == ("pending", 1, "20" + kind)
    assert row.body is not None and row.address_enc is not None
    # The rest of the batch was not tried against a throttling provider.
    assert load(send_runtime, second).attempts == 0
    assert twilio_api.requests == 1
    # RQ's retry runs the same job again.
    assert send_outbox([first, second]) == {"sent": 2}
    assert [m["to"] for m in twilio_api.messages] == ["+4791234567", "+4791234568"]


def test_a_hung_provider_is_deferred(send_runtime, twilio_api):
    send_runtime.__dict__.setdefault("_channels", {})["sms"] = TwilioChannel(send_runtime.config, timeout=0.3)
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.fail_next("hang")
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    # Twilio may have it: no resend until its status callback or the sweeper's grace period.
    assert load(send_runtime, outbox_id).status == "sending"


def test_unsubscribed_recipient_is_opted_out(send_runtime, twilio_api):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.fail_next("21610")
    assert send_outbox([outbox_id]) == {"failed": 1}
    row = load(send_runtime, outbox_id)
    assert (row.status, row.error_code, row.body, row.address_enc) == ("failed", "21610", None, None)
    assert invitation_of(send_runtime, invitation_id).status == "opted_out"
    with send_runtime.session() as session:
        [opt_out] = session.query(OptOut).all()
    assert opt_out.address_hash == send_runtime.vault.address_hash("sms", outbox_rows.PHONE)


def test_a_refused_message_fails_with_twilio_code(send_runtime, twilio_api):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.fail_next("21211")
    assert send_outbox([outbox_id]) == {"failed": 1}
    row = load(send_runtime, outbox_id)
    assert (row.status, row.error_code, row.body) == ("failed", "21211", None)
    assert invitation_of(send_runtime, invitation_id).status == "failed"


def test_a_row_without_body_fails_without_asking_twilio(send_runtime, twilio_api):
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime, body="")
    assert send_outbox([outbox_id]) == {"failed": 1}
    assert load(send_runtime, outbox_id).error_code == "body"
    assert twilio_api.requests == 0


def test_an_invitation_opted_out_after_queueing_is_not_sent(send_runtime, twilio_api):
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime)
    with send_runtime.transaction() as session:
        session.get(Invitation, invitation_id).status = "opted_out"
    assert send_outbox([outbox_id]) == {"failed": 1}
    assert twilio_api.messages == []


def test_enqueue_send_chunks_ids_after_commit(send_runtime):
    send_runtime.config = dataclasses.replace(send_runtime.config, send_batch=2)
    queue = send_runtime.queue(SEND_QUEUE)
    with send_runtime.transaction() as session:
        enqueue_send(session, [1, 2, 3, 4, 5])
        assert queue.count == 0
    assert [job.args for job in queue.jobs] == [([1, 2],), ([3, 4],), ([5],)]
    assert all(job.func_name == "workers.send.send_outbox" and job.retries_left == 5 for job in queue.jobs)


def test_enqueue_send_forgets_on_rollback(send_runtime):
    with pytest.raises(RuntimeError):
        with send_runtime.transaction() as session:
            enqueue_send(session, [1])
            raise RuntimeError("boom")
    assert send_runtime.queue(SEND_QUEUE).count == 0


def test_redis_failing_after_the_claim_leaves_the_rest_pending_and_the_first_sent(send_runtime, twilio_api, monkeypatch):
    ids = [outbox_rows.outbox_for_new_invitation(send_runtime, phone=f"+479100001{n}")[0] for n in range(3)]
    calls = []

    def pace(runtime, row, now, window_closes):
        calls.append(row.id)
        if len(calls) > 1:
            raise RedisConnectionError("Redis went away")
        return None

    monkeypatch.setattr(send_gate, "pace", pace)
    with pytest.raises(RedisConnectionError):
        send_outbox(ids)
    # The claim of the second is undone (rolled back on SQLite, put back in autocommit on PostgreSQL),
    # not left "sending" for the sweeper's grace; the first, sent, is recorded; RQ retries the job.
    rows = [load(send_runtime, outbox_id) for outbox_id in ids]
    assert [(row.status, row.attempts) for row in rows] == [("sent", 1), ("pending", 0), ("pending", 0)]
    assert rows[1].not_before is None
