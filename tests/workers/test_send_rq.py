"""The send job run by RQ workers: in-process with fakeredis, and forked against a real redis-server."""
import os

import pytest
from rq import SimpleWorker
from rq import Worker
from rq.defaults import DEFAULT_MAINTENANCE_TASK_INTERVAL
from rq.job import JobStatus

from service.infra import db
from service.infra import runtime as runtimes
from service.models import OutboxMessage
from service.infra.queue import DEFAULT_QUEUE
from service.infra.queue import SEND_QUEUE
from service.infra.runtime import Runtime
from tests import outbox_rows
from workers.rq_worker import MAINTENANCE_SECONDS
from workers.rq_worker import PreloadingWorker
from service.outbox.send_jobs import enqueue_send


def queue_rows(runtime, count=3):
    ids = [outbox_rows.outbox_for_new_invitation(runtime, phone=f"+479123456{n}")[0] for n in range(count)]
    with runtime.transaction() as session:
        enqueue_send(session, ids)
    return ids


def statuses(runtime, ids):
    with runtime.session() as session:
        return [session.get(OutboxMessage, i).status for i in ids]


def work(worker_class, runtime):
    queue = runtime.queue(SEND_QUEUE)
    worker_class([queue], connection=runtime.redis).work(burst=True)
    return queue


def test_simple_worker_with_fakeredis(send_runtime, twilio_api):
    ids = queue_rows(send_runtime)
    work(SimpleWorker, send_runtime)
    assert statuses(send_runtime, ids) == ["sent"] * 3
    assert len(twilio_api.messages) == 3


def test_forking_worker_with_fakeredis(send_runtime, twilio_api):
    ids = queue_rows(send_runtime)
    db.dispose_all()
    work(Worker, send_runtime)
    assert statuses(send_runtime, ids) == ["sent"] * 3


def test_a_throttled_job_is_scheduled_for_retry(send_runtime, twilio_api):
    ids = queue_rows(send_runtime, count=2)
    twilio_api.fail_next("429")
    queue = work(SimpleWorker, send_runtime)
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 4
    assert statuses(send_runtime, ids) == ["pending", "pending"]
    # The job carries ids only: nothing to read in a failed-job registry.
    assert job.args == (ids,)
    assert b"+479123456" not in job.data and "Svar".encode() not in job.data


@pytest.fixture
def real_runtime(twilio_config, real_redis):
    runtime = Runtime(twilio_config, redis=real_redis)
    runtimes.install(runtime)
    yield runtime
    runtimes.install(None)


@pytest.mark.redis
def test_redis_server_is_one_rq_supports(real_redis):
    assert tuple(int(p) for p in real_redis.info()["redis_version"].split(".")) >= (6, 2)


@pytest.mark.redis
def test_simple_worker_with_real_redis(real_runtime, twilio_api):
    ids = queue_rows(real_runtime)
    queue = work(SimpleWorker, real_runtime)
    assert statuses(real_runtime, ids) == ["sent"] * 3
    assert queue.finished_job_registry.count == 1


@pytest.mark.redis
def test_forking_worker_with_real_redis(real_runtime, twilio_api):
    ids = queue_rows(real_runtime)
    # The work horse is a fork: it must open its own database connections.
    db.dispose_all()
    queue = work(Worker, real_runtime)
    assert statuses(real_runtime, ids) == ["sent"] * 3
    assert len(twilio_api.messages) == 3
    assert queue.failed_job_registry.count == 0


@pytest.mark.redis
def test_forking_worker_retry_after_an_outage(real_runtime, twilio_api):
    ids = queue_rows(real_runtime, count=2)
    twilio_api.fail_next("500")
    db.dispose_all()
    queue = work(Worker, real_runtime)
    assert statuses(real_runtime, ids) == ["pending", "pending"]
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    # Run the retry now instead of waiting out the interval.
    queue.scheduled_job_registry.remove(job_id)
    queue.enqueue_job(queue.fetch_job(job_id))
    db.dispose_all()
    work(Worker, real_runtime)
    assert statuses(real_runtime, ids) == ["sent", "sent"]


def test_the_preloading_worker_looks_for_a_lost_scheduler_every_few_seconds(redis):
    # `rq worker` passes RQ's default of ten minutes: scheduled retries of a killed scheduler's worker would wait that long.
    worker = PreloadingWorker([SEND_QUEUE], connection=redis, maintenance_interval=DEFAULT_MAINTENANCE_TASK_INTERVAL)
    assert worker.maintenance_interval == MAINTENANCE_SECONDS <= 30
    assert PreloadingWorker([SEND_QUEUE], connection=redis, maintenance_interval=120).maintenance_interval == 120


@pytest.mark.redis
def test_the_preloading_worker_sends_in_process_and_forks_for_other_jobs(real_runtime, twilio_api):
    ids = queue_rows(real_runtime)
    other = real_runtime.queue(DEFAULT_QUEUE).enqueue(os.getpid)
    queues = [real_runtime.queue(SEND_QUEUE), real_runtime.queue(DEFAULT_QUEUE)]
    PreloadingWorker(queues, connection=real_runtime.redis).work(burst=True)
    assert statuses(real_runtime, ids) == ["sent"] * 3
    # The send job used this process's channel (and connections); the other job ran in a work horse.
    assert "sms" in real_runtime.__dict__["_channels"]
    assert other.return_value() not in (None, os.getpid())
