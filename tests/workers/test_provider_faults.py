"""Provider faults the send path must ride out: Twilio's Retry-After, timeouts settled by the status callback,
Telegram 500s and deactivated users.
"""
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from urllib.parse import urlsplit

import pytest
from rq import SimpleWorker
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from service import create_app
from service.infra import runtime as runtimes
from service.channels.twilio import TwilioChannel
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from tests import outbox_rows
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401
from tests.workers.test_telegram_send import queue_questions
from workers.schedule import sweep_outbox
from workers.send import SendDeferred
from service.outbox.send_jobs import enqueue_send
from workers.send import send_outbox


def load(runtime, outbox_id) -> OutboxMessage:
    with runtime.session() as session:
        return session.get(OutboxMessage, outbox_id)


def work(runtime):
    queue = runtime.queue(SEND_QUEUE)
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    return queue


@pytest.fixture
def status_client(send_runtime, redis):
    """The webhooks of the app that shares the worker's runtime, for Twilio's status callbacks."""
    app = create_app(send_runtime.config, redis=redis)
    app.extensions["svar"] = send_runtime
    runtimes.install(send_runtime)
    return app.test_client()


def callback(client, config, message, status="sent"):
    """POST the status callback Twilio makes for a message it accepted, to the URL we gave it, signed."""
    url = message["status_callback"]
    parts = urlsplit(url)
    form = {"MessageSid": message["sid"], "MessageStatus": status, "AccountSid": config.twilio_account_sid}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(url, form)
    return client.post(f"{parts.path}?{parts.query}", data=form, headers={"X-Twilio-Signature": signature})


def test_twilio_429_with_retry_after_is_retried_then_and_not_before(send_runtime, twilio_api):
    ids = [outbox_rows.outbox_for_new_invitation(send_runtime, phone=f"+479100000{n}")[0] for n in range(3)]
    with send_runtime.transaction() as session:
        enqueue_send(session, ids)
    twilio_api.fail_next("429", retry_after=17)
    before = datetime.now(timezone.utc)
    queue = work(send_runtime)
    assert [load(send_runtime, i).status for i in ids] == ["pending"] * 3 and twilio_api.requests == 1
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    due = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert 16 <= (due - before).total_seconds() <= 19
    queue.scheduled_job_registry.remove(job_id)
    queue.enqueue_job(queue.fetch_job(job_id))
    work(send_runtime)
    assert [load(send_runtime, i).status for i in ids] == ["sent"] * 3 and len(twilio_api.messages) == 3


def test_twilio_500s_are_retried_until_it_recovers_without_sending_twice(send_runtime, twilio_api):
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.fail_next("500", count=2)
    twilio_api.fail_next("503")
    for _attempt in range(3):
        with pytest.raises(SendDeferred):
            send_outbox([outbox_id])
    assert send_outbox([outbox_id]) == {"sent": 1}
    assert send_outbox([outbox_id]) == {"skipped": 1}
    assert len(twilio_api.messages) == 1 and load(send_runtime, outbox_id).attempts == 4


def test_a_timeout_twilio_accepted_after_all_is_settled_by_its_callback_and_never_resent(
    send_runtime, twilio_api, status_client
):
    send_runtime.__dict__.setdefault("_channels", {})["sms"] = TwilioChannel(send_runtime.config, timeout=0.3)
    outbox_id, invitation_id = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.hang_seconds = 0.6
    twilio_api.fail_next("hang")
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    # RQ's retry comes before Twilio's answer would have: the row is not up for grabs.
    assert send_outbox([outbox_id]) == {"skipped": 1}
    [accepted] = _wait_for_messages(twilio_api, 1)
    assert urlsplit(accepted["status_callback"]).query == f"ref={outbox_id}"
    assert callback(status_client, send_runtime.config, accepted).status_code == 200
    row = load(send_runtime, outbox_id)
    assert (row.status, row.provider_id, row.body, row.address_enc) == ("sent", accepted["sid"], None, None)
    with send_runtime.session() as session:
        assert session.get(Invitation, invitation_id).status == "invited"
    assert sweep_outbox(utcnow() + timedelta(hours=1)) == 0
    assert len(twilio_api.messages) == 1


def test_a_timeout_with_no_callback_is_sent_again_after_the_grace_period(send_runtime, twilio_api):
    send_runtime.__dict__.setdefault("_channels", {})["sms"] = TwilioChannel(send_runtime.config, timeout=0.3)
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    twilio_api.fail_next("drop")
    twilio_api.hang_seconds = 0.6
    with pytest.raises(SendDeferred):
        send_outbox([outbox_id])
    grace = timedelta(seconds=send_runtime.config.sending_grace)
    assert sweep_outbox(utcnow() + grace / 2) == 0
    assert sweep_outbox(utcnow() + grace + timedelta(seconds=1)) == 1
    work(send_runtime)
    assert load(send_runtime, outbox_id).status == "sent" and len(twilio_api.messages) == 1


def test_a_forged_or_foreign_reference_claims_nothing(send_runtime, twilio_api, status_client):
    outbox_id, _ = outbox_rows.outbox_for_new_invitation(send_runtime)
    config = send_runtime.config
    # Signed for the plain URL, sent with ?ref= added: the signature covers the query, so it fails.
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(config.public_base_url + "/webhooks/twilio/status", form)
    response = status_client.post(f"/webhooks/twilio/status?ref={outbox_id}", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    # A signed report naming a row that was already sent under another SID is a second copy: ignored.
    send_outbox([outbox_id])
    [sent] = twilio_api.messages
    copy = dict(sent, sid="SM" + "c" * 32)
    assert callback(status_client, config, copy, status="delivered").status_code == 200
    assert load(send_runtime, outbox_id).provider_id == sent["sid"]
    assert load(send_runtime, outbox_id).status == "sent"


def test_telegram_500_is_retried_and_sends_once(tg_runtime, telegram_api):
    ids = queue_questions(tg_runtime, [7101, 7102])
    telegram_api.fail_next("500")
    queue = work(tg_runtime)
    assert [load(tg_runtime, i).status for i in ids] == ["pending", "pending"]
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    queue.scheduled_job_registry.remove(job_id)
    queue.enqueue_job(queue.fetch_job(job_id))
    work(tg_runtime)
    assert [load(tg_runtime, i).status for i in ids] == ["sent", "sent"]
    assert len(telegram_api.sent) == 2


def test_a_deactivated_telegram_account_fails_its_message_and_the_batch_goes_on(tg_runtime, telegram_api):
    gone, fine = queue_questions(tg_runtime, [7201, 7202])
    telegram_api.fail_next("deactivated")
    work(tg_runtime)
    assert (load(tg_runtime, gone).status, load(tg_runtime, gone).error_code) == ("failed", "403")
    assert load(tg_runtime, fine).status == "sent"
    # A deleted account is no refusal: only "blocked by the user" records an opt-out.
    with tg_runtime.session() as session:
        assert session.scalars(select(OptOut)).all() == []


def _wait_for_messages(twilio_api, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(twilio_api.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(twilio_api.messages)
