"""redis-server restarted empty during a send wave and during reminders: the sweepers rebuild the queue
from the database; a worker process keeps going; nothing lost, nothing doubled.

The web app runs too, for Twilio's status callbacks: a worker that dies with
Redis after Twilio accepted a message has it settled by the callback (?ref=).
"""
import dataclasses
import threading
import time
from collections import Counter

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.serving import make_server

from service import create_app
from service.infra import runtime as runtimes
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.runtime import Runtime
from tests.workers import processes
from tests.workers.reminder_world import DAY
from tests.workers.reminder_world import launched
from tests.workers.reminder_world import phone
from workers.reminders import sweep_reminders
from workers.schedule import sweep_outbox

pytestmark = pytest.mark.redis
RESPONDENTS = 60


@pytest.fixture
def redis_process(tmp_path):
    server = processes.RedisProcess(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def wave_runtime(twilio_config, twilio_api, redis_process):
    """The runtime of the test's sweeps, and the web app on loopback for Twilio's status callbacks."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    # Paced at 200 SMS a second, the wave lasts long enough to be cut in the middle.
    config = dataclasses.replace(
        twilio_config,
        public_base_url=f"http://127.0.0.1:{server.server_port}",
        redis_url=redis_process.url,
        send_batch=20,
        sms_rate=200.0,
        twilio_timeout=2.0,
        pending_grace=2.0,
        sending_grace=5.0,
    )
    holder["app"] = create_app(config)
    twilio_api.deliver_after = 0.2
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    runtime = Runtime(config)
    runtimes.install(runtime)
    yield runtime
    server.shutdown()
    runtimes.install(None)


def outbox_count(runtime, kind, status=None) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
    if status:
        query = query.where(OutboxMessage.status.in_(status))
    with runtime.session() as session:
        return session.scalar(query)


def sweep_until_out(runtime, worker, log, kind, count, timeout=60.0):
    """What rq cron does every minute, every fifth of a second, until `count` rows of `kind` are out."""
    deadline = time.monotonic() + timeout
    while outbox_count(runtime, kind, ("sent", "delivered", "failed")) < count:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        try:
            sweep_outbox()
        except RedisConnectionError:
            pass  # Redis is still coming back; the next sweep does it
        if worker.poll() is not None:
            # A supervisor (systemd, the platform, `svar run`) restarts a worker that exits.
            worker = processes.start_worker(runtime.config, log)
        time.sleep(0.2)
    return worker


def delivered(runtime) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(Invitation).where(Invitation.status == "delivered"))


def days_pass(runtime, days):
    """Move the invitations back in time, so reminders fall due on the real clock the worker reads."""
    with runtime.transaction() as session:
        for invitation in session.scalars(select(Invitation)):
            invitation.invited_at -= days * DAY
            invitation.next_reminder_at = utcnow() - DAY


def ledger(twilio_api, expected_per_phone) -> dict:
    received = Counter(message["to"] for message in list(twilio_api.messages))
    phones = [phone(n) for n in range(RESPONDENTS)]
    ledger = {
        "expected": expected_per_phone * RESPONDENTS,
        "sent": sum(min(received[p], expected_per_phone) for p in phones),
        "duplicated": sum(max(0, received[p] - expected_per_phone) for p in phones),
        "lost": sum(max(0, expected_per_phone - received[p]) for p in phones),
    }
    print("ledger:", ledger)
    return ledger


def test_redis_restarted_empty_mid_wave_and_mid_reminders(wave_runtime, redis_process, twilio_api, tmp_path):
    log = tmp_path / "worker.log"
    launch = utcnow()
    launched(wave_runtime, count=RESPONDENTS, at=launch, always_open=True)
    worker = processes.start_worker(wave_runtime.config, log)
    try:
        processes.wait_for(lambda: len(twilio_api.messages) >= RESPONDENTS // 4, what="a quarter of the wave", timeout=60)
        # Mid-wave: every queued job, the pace and the worker's registrations are gone.
        redis_process.restart_empty()
        worker = sweep_until_out(wave_runtime, worker, log, "invitation", RESPONDENTS)
        assert ledger(twilio_api, 1) == {"expected": RESPONDENTS, "sent": RESPONDENTS, "duplicated": 0, "lost": 0}

        # The wave's last status callbacks lock their invitations as they land, and the sweep on
        # PostgreSQL skips locked rows (the next sweep takes them): let them land first.
        processes.wait_for(lambda: delivered(wave_runtime) == RESPONDENTS, what="the wave's status callbacks")
        # Redis is down while the reminder sweep writes its rows: their jobs never reach a queue.
        days_pass(wave_runtime, 3)
        redis_process.kill()
        assert sweep_reminders() == RESPONDENTS
        redis_process.start()
        worker = sweep_until_out(wave_runtime, worker, log, "reminder", RESPONDENTS)
        assert ledger(twilio_api, 2) == {"expected": 2 * RESPONDENTS, "sent": 2 * RESPONDENTS, "duplicated": 0, "lost": 0}
        # And once more, mid-way through the reminders' sends.
        days_pass(wave_runtime, 4)
        assert sweep_reminders() == RESPONDENTS
        processes.wait_for(lambda: len(twilio_api.messages) >= 2 * RESPONDENTS + RESPONDENTS // 4, what="reminders", timeout=60)
        redis_process.restart_empty()
        worker = sweep_until_out(wave_runtime, worker, log, "reminder", 2 * RESPONDENTS)
        assert ledger(twilio_api, 3) == {"expected": 3 * RESPONDENTS, "sent": 3 * RESPONDENTS, "duplicated": 0, "lost": 0}
    finally:
        processes.stop(worker)

