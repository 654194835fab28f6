"""The provider's message SID is committed as soon as it answers: a worker killed right after leaves the row known sent.

Real processes: an `rq worker` and a redis-server of the test's own, the
Twilio double with no status callbacks. Twilio is slow on the first of two
messages; meanwhile Redis stalls, so the worker, once Twilio has answered,
hangs on the second message's pace call, and is killed there. Had it kept the
SID in memory until its next claim, the first row would be left "sending",
unsure, and (with no lookup, as on Telegram) sent again.
"""
import dataclasses
import os
import signal
import time

import pytest
from redis import Redis

from service import create_app
from service.infra import runtime as runtimes
from service.models import OutboxMessage
from tests import outbox_rows
from tests.workers import processes
from service.outbox.send_jobs import enqueue_send

pytestmark = pytest.mark.redis
PHONES = ["+4791000011", "+4791000012"]


@pytest.fixture
def stallable(twilio_config, tmp_path):
    """The app's runtime on a redis-server that the test may SIGSTOP; yields (runtime, server)."""
    server = processes.RedisProcess(tmp_path).start()
    connection = Redis.from_url(server.url)
    # One lane, so the second message comes right after the first; the worker waits out any stall of Twilio's.
    config = dataclasses.replace(twilio_config, redis_url=server.url, twilio_timeout=30.0, sms_rate=1000.0, send_concurrency=1)
    app = create_app(config, redis=connection)
    yield app.extensions["svar"], server
    runtimes.install(None)
    connection.close()
    server.kill()


def test_a_worker_killed_after_twilio_answered_leaves_the_message_recorded_with_its_sid(stallable, twilio_api, tmp_path):
    runtime, server = stallable
    twilio_api.deliver_after = None
    twilio_api.hang_seconds = 1.5
    ids = [outbox_rows.outbox_for_new_invitation(runtime, phone=phone)[0] for phone in PHONES]
    with runtime.transaction() as session:
        enqueue_send(session, ids)
    twilio_api.fail_next("hang")
    worker = processes.start_worker(runtime.config, tmp_path / "worker.log")
    stopped = False
    try:
        processes.wait_for(lambda: twilio_api.requests >= 1, timeout=30, what="the first send")
        os.kill(server.process.pid, signal.SIGSTOP)
        stopped = True
        processes.wait_for(lambda: twilio_api.messages, timeout=10, what="Twilio to accept the first message")
        # The worker has its answer and is on the next message, held by Redis (5 s socket timeout).
        time.sleep(1.5)
    finally:
        processes.kill(worker)
        if stopped:
            os.kill(server.process.pid, signal.SIGCONT)
    [taken] = twilio_api.messages
    with runtime.session() as session:
        first, second = (session.get(OutboxMessage, outbox_id) for outbox_id in ids)
        assert (first.status, first.provider_id, first.body, first.address_enc) == ("sent", taken["sid"], None, None)
        assert second.status in ("pending", "sending") and second.provider_id is None
    assert twilio_api.requests == 1
