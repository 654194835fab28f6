"""The provider's pace, shared through a real Redis, on a controllable clock; and one RQ run end to end."""
import dataclasses
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import func
from sqlalchemy import select

from service.infra import runtime as runtimes
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import DEFAULT_QUEUE
from service.infra.queue import SEND_QUEUE
from service.infra.runtime import Runtime
from tests.workers.reminder_world import DAY
from tests.workers.reminder_world import LAUNCH
from tests.workers.reminder_world import drain
from tests.workers.reminder_world import launched
from tests.workers.reminder_world import rows
from workers.rate_limit import SendRate
from workers.rate_limit import send_rate
from workers.reminders import sweep_reminders
from workers.schedule import sweep_outbox

T0 = 1_790_000_000.0

pytestmark = pytest.mark.redis


def limiter(redis, rate=10.0, backlog=60.0, sender="+4759440000"):
    return SendRate(redis, f"sms:{sender}", rate, backlog)


def admitted(rate: SendRate, now: float, limit: int = 100_000, **options) -> int:
    count = 0
    while count < limit and rate.admit(now, **options) == 0:
        count += 1
    return count


def test_a_backlog_at_once_then_the_providers_rate(real_redis):
    rate = limiter(real_redis)
    # Ten a second for a minute of backlog: 601 places (waits of 0 to 60 s), then one every tenth of a second.
    assert admitted(rate, T0) == 601
    assert rate.admit(T0) == pytest.approx(0.1)
    assert rate.queued_seconds(T0) == pytest.approx(60.1)
    assert admitted(rate, T0 + 1) == 10
    assert admitted(rate, T0 + 31) == 300
    assert rate.queued_seconds(T0 + 61) == pytest.approx(30.1, abs=1e-3)


def test_workers_share_the_sender_and_senders_are_apart(real_redis):
    one, other = limiter(real_redis, backlog=1), limiter(real_redis, backlog=1)
    assert admitted(one, T0) + admitted(other, T0) == 11
    assert admitted(limiter(real_redis, backlog=1, sender="MG" + "1" * 32), T0) == 11


def test_a_closing_window_tightens_the_backlog_and_replies_always_go(real_redis):
    rate = limiter(real_redis)
    assert admitted(rate, T0, max_delay=5) == 51
    assert rate.admit(T0, force=True) == 0
    assert rate.queued_seconds(T0) == pytest.approx(5.2)


def test_redis_losing_the_key_admits_one_more_backlog_at_most(real_redis):
    rate = limiter(real_redis, backlog=10)
    assert admitted(rate, T0) == 101
    real_redis.flushdb()
    assert admitted(rate, T0) == 101


def test_the_key_expires_once_the_provider_queue_is_empty(real_redis):
    rate = limiter(real_redis, backlog=10)
    admitted(rate, T0 + 0.0)
    assert 10_000 < real_redis.pttl(rate.key) <= 11_200


def test_the_default_rate_is_per_number_or_messaging_service(runtime):
    assert send_rate(runtime, "sms").rate == 10.0
    assert send_rate(runtime, "telegram") is None
    runtime.config = dataclasses.replace(runtime.config, twilio_messaging_service_sid="MG" + "2" * 32)
    assert (send_rate(runtime, "sms").rate, send_rate(runtime, "sms").sender) == (30.0, "sms:MG" + "2" * 32)
    runtime.config = dataclasses.replace(runtime.config, sms_rate=100.0)
    assert send_rate(runtime, "sms").rate == 100.0


@pytest.fixture
def paced_runtime(twilio_config, real_redis):
    """Two SMS a second, at most two minutes queued at the provider; a real Redis."""
    config = dataclasses.replace(twilio_config, sms_rate=2.0, sms_backlog=120.0)
    runtime = Runtime(config, redis=real_redis)
    runtimes.install(runtime)
    yield runtime
    runtimes.install(None)


def test_a_wave_drains_at_the_providers_pace(paced_runtime, twilio_api):
    launched(paced_runtime, count=600)
    step = timedelta(seconds=90)
    sent_per_step, queued = [], []
    now = LAUNCH
    while len(twilio_api.messages) < 600 and len(sent_per_step) < 10:
        before = len(twilio_api.messages)
        sweep_outbox(now)
        drain(paced_runtime, now)
        sent_per_step.append(len(twilio_api.messages) - before)
        queued.append(send_rate(paced_runtime, "sms").queued_seconds(now.timestamp()))
        now += step
    # A full backlog first (2/s for 120 s, and the one at 0 s), then what the provider sent meanwhile (2/s for 90 s).
    assert sent_per_step == [241, 180, 179]
    assert max(queued) <= 120.5
    assert len({message["to"] for message in twilio_api.messages}) == 600
    with paced_runtime.session() as session:
        statuses = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        attempts = session.scalar(select(func.max(OutboxMessage.attempts)))
    assert statuses == {"sent": 600} and attempts == 1


def test_rq_end_to_end_sweep_then_send_on_a_real_redis(paced_runtime, twilio_api):
    # The worker's send jobs read the real clock: launch now, in a window open all day.
    now = utcnow()
    launched(paced_runtime, count=3, at=now, always_open=True, language="en")
    worker = SimpleWorker([paced_runtime.queue(DEFAULT_QUEUE), paced_runtime.queue(SEND_QUEUE)], connection=paced_runtime.redis)
    worker.work(burst=True)
    assert len(twilio_api.messages) == 3
    paced_runtime.queue(DEFAULT_QUEUE).enqueue(sweep_reminders, now + 3 * DAY)
    worker.work(burst=True)
    assert [row.status for row in rows(paced_runtime)] == ["sent"] * 3
    assert [message["body"].startswith("Reminder") for message in twilio_api.messages] == [False] * 3 + [True] * 3
