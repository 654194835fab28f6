"""Replies through the Redis list: pushed after commit, drained in batches by one job, never lost, never sent twice."""
import os
import time
from datetime import timedelta

import pytest
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select

from flows.model import Outbound
from service.infra import runtime as runtimes
from service.models import OutboxMessage
from service.models import utcnow
from service.outbox.rows import queue_outbound
from service.infra.queue import DEFAULT_QUEUE
from service.infra.queue import SEND_QUEUE
from service.infra.queue import SEND_RETRY
from service.infra.queue import after_commit_replies
from service.infra.runtime import Runtime
from tests import outbox_rows
from workers import replies
from service.infra.reply_list import FLAG_KEY
from service.infra.reply_list import FLAG_SECONDS
from service.infra.reply_list import LIST_KEY
from workers.replies import batch_size
from workers.replies import drain_replies
from service.infra.reply_list import listed_ids
from workers.rq_worker import PreloadingWorker
from workers.schedule import sweep_outbox
from workers.send import send_outbox

DRAIN = "workers.replies.drain_replies"
SEND = "workers.send.send_outbox"


@pytest.fixture(params=["fakeredis", pytest.param("redis-server", marks=pytest.mark.redis)])
def reply_runtime(request, twilio_config, redis):
    """A worker's runtime on fakeredis, and on a real redis-server (the scripts' TTLs and atomicity are the server's)."""
    connection = redis if request.param == "fakeredis" else request.getfixturevalue("real_redis")
    runtime = Runtime(twilio_config, redis=connection)
    runtimes.install(runtime)
    yield runtime
    runtimes.install(None)


def reply(runtime, n=0) -> int:
    """Commit one reply row and push its id after the commit, as queue_outbound does; returns the id."""
    with runtime.transaction() as session:
        row = outbox_rows.outbox(session, runtime, kind="reply", phone=f"+47912300{n:02d}", body=f"Svar {n}")
        after_commit_replies(session, [row.id])
        return row.id


def jobs(runtime) -> list[str]:
    return [job.func_name for job in runtime.queue(SEND_QUEUE).jobs]


def run_next(runtime):
    """Take the first queued job out of the send queue and run it here, as a worker would; returns its result."""
    queue = runtime.queue(SEND_QUEUE)
    job = queue.jobs[0]
    queue.remove(job)
    return job.func(*job.args)


def run_all(runtime):
    SimpleWorker([runtime.queue(SEND_QUEUE)], connection=runtime.redis).work(burst=True)


def statuses(runtime, ids) -> list[str]:
    with runtime.session() as session:
        found = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))).all())
    return [found[i] for i in ids]


def sent_to(twilio_api) -> list[str]:
    return sorted(message["to"] for message in twilio_api.messages)


def phones(count) -> list[str]:
    return sorted(f"+47912300{n:02d}" for n in range(count))


def test_many_pushes_set_the_flag_once_and_queue_one_drain_job(reply_runtime):
    ids = [reply(reply_runtime, n) for n in range(5)]
    assert [int(value) for value in reply_runtime.redis.lrange(LIST_KEY, 0, -1)] == ids
    assert jobs(reply_runtime) == [DRAIN]
    [job] = reply_runtime.queue(SEND_QUEUE).jobs
    assert job.args == () and not job.kwargs
    # The flag lapses by itself if nobody drains.
    assert 0 < reply_runtime.redis.ttl(FLAG_KEY) <= FLAG_SECONDS


def test_the_drain_sends_all_and_clears_the_flag(reply_runtime, twilio_api):
    count = 3 * batch_size(reply_runtime) + 1
    ids = [reply(reply_runtime, n) for n in range(count)]
    assert run_next(reply_runtime) == {"sent": count}
    assert statuses(reply_runtime, ids) == ["sent"] * count
    assert sent_to(twilio_api) == phones(count)
    assert reply_runtime.redis.exists(FLAG_KEY, LIST_KEY) == 0
    assert jobs(reply_runtime) == []
    # The next push finds no drain pending and queues one.
    later = reply(reply_runtime, count)
    assert jobs(reply_runtime) == [DRAIN]
    run_all(reply_runtime)
    assert statuses(reply_runtime, [later]) == ["sent"]


def test_a_push_just_after_the_final_pop_queues_a_new_drainer(reply_runtime, twilio_api, monkeypatch):
    first = reply(reply_runtime, 0)
    real_pop = replies.pop
    late = []

    def pop(*args, **kwargs):
        status, batch = real_pop(*args, **kwargs)
        if status == replies.EMPTY and not late:
            # The lost-wakeup race: a step commits between the drainer's empty pop and its return.
            late.append(reply(reply_runtime, 1))
        return status, batch

    monkeypatch.setattr(replies, "pop", pop)
    assert run_next(reply_runtime) == {"sent": 1}
    assert statuses(reply_runtime, [first, late[0]]) == ["sent", "pending"]
    # The empty pop cleared the flag, so the late push set it again and queued a drainer.
    assert jobs(reply_runtime) == [DRAIN]
    monkeypatch.setattr(replies, "pop", real_pop)
    run_all(reply_runtime)
    assert statuses(reply_runtime, [first, late[0]]) == ["sent", "sent"]
    assert sent_to(twilio_api) == phones(2)


def test_a_push_during_the_last_batch_is_sent_by_the_same_drainer(reply_runtime, twilio_api, monkeypatch):
    first = reply(reply_runtime, 0)
    late = []

    def send_and_push(batch, now=None):
        if not late:
            late.append(reply(reply_runtime, 1))
        return send_outbox(batch, now)

    monkeypatch.setattr(replies, "send_outbox", send_and_push)
    assert run_next(reply_runtime) == {"sent": 2}
    assert statuses(reply_runtime, [first, late[0]]) == ["sent", "sent"]
    # The flag was still set: the push queued no second drainer.
    assert jobs(reply_runtime) == []
    assert reply_runtime.redis.exists(FLAG_KEY) == 0


def test_a_killed_drainer_is_recovered_by_the_sweeper(reply_runtime, twilio_api):
    ids = [reply(reply_runtime, n) for n in range(3)]
    # A worker took the drain job and was killed before its first pop.
    reply_runtime.queue(SEND_QUEUE).remove(reply_runtime.queue(SEND_QUEUE).jobs[0])
    later = utcnow() + timedelta(seconds=reply_runtime.config.pending_grace + 1)
    # While the drain is pending, the listed rows are held, as a waiting job's.
    assert listed_ids(reply_runtime.redis) == set(ids)
    assert sweep_outbox(later) == 0
    # The flag's TTL lapses (FLAG_SECONDS, shorter than the grace): nobody holds the rows any more.
    reply_runtime.redis.delete(FLAG_KEY)
    assert listed_ids(reply_runtime.redis) == set()
    assert sweep_outbox(later) == 3
    [job] = reply_runtime.queue(SEND_QUEUE).jobs
    assert job.func_name == SEND and job.args == (ids,)
    run_all(reply_runtime)
    assert statuses(reply_runtime, ids) == ["sent"] * 3
    # The ids still listed reach the next drainer, which sends only the new reply: nothing twice.
    newer = reply(reply_runtime, 3)
    assert run_next(reply_runtime) == {"skipped": 3, "sent": 1}
    assert statuses(reply_runtime, [newer]) == ["sent"]
    assert sent_to(twilio_api) == phones(4)


def test_a_failed_batch_becomes_a_retry_job_and_the_rest_is_sent(reply_runtime, twilio_api):
    size = batch_size(reply_runtime)
    ids = [reply(reply_runtime, n) for n in range(size + 1)]
    twilio_api.fail_next("500")
    assert run_next(reply_runtime) == {"deferred": size, "sent": 1}
    assert statuses(reply_runtime, ids) == ["pending"] * size + ["sent"]
    assert reply_runtime.redis.exists(FLAG_KEY, LIST_KEY) == 0
    # As RQ retried a failed reply job: after the first interval, with the retries left.
    queue = reply_runtime.queue(SEND_QUEUE)
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=reply_runtime.redis)
    assert job.func_name == SEND and job.args == (ids[:size],)
    assert job.retries_left == SEND_RETRY.max - 1 and job.retry_intervals == SEND_RETRY.intervals[1:]
    due = reply_runtime.redis.zscore(queue.scheduled_job_registry.key, job_id)
    assert 0 < due - time.time() <= SEND_RETRY.intervals[0]
    # The retry holds its rows: the sweeper leaves them to it.
    assert sweep_outbox(utcnow() + timedelta(seconds=reply_runtime.config.pending_grace + 1)) == 0
    # Run the retry now instead of waiting out the interval.
    queue.scheduled_job_registry.remove(job_id)
    queue.enqueue_job(job)
    run_all(reply_runtime)
    assert statuses(reply_runtime, ids) == ["sent"] * (size + 1)
    assert sent_to(twilio_api) == phones(size + 1)


def test_a_rolled_back_step_pushes_nothing(reply_runtime):
    with pytest.raises(RuntimeError):
        with reply_runtime.transaction() as session:
            row = outbox_rows.outbox(session, reply_runtime, kind="reply")
            after_commit_replies(session, [row.id])
            raise RuntimeError("the step failed")
    assert reply_runtime.redis.exists(FLAG_KEY, LIST_KEY) == 0
    assert jobs(reply_runtime) == []


def test_a_session_that_rolled_back_and_goes_on_pushes_only_what_it_committed(reply_runtime):
    session = reply_runtime.session()
    try:
        forgotten = outbox_rows.outbox(session, reply_runtime, kind="reply").id
        after_commit_replies(session, [forgotten])
        session.rollback()
        kept = outbox_rows.outbox(session, reply_runtime, kind="reply", phone="+4791230001").id
        after_commit_replies(session, [kept])
        session.commit()
    finally:
        session.close()
    # As a list: the database may give the committed row the rolled-back row's id.
    assert [int(value) for value in reply_runtime.redis.lrange(LIST_KEY, 0, -1)] == [kept]
    assert jobs(reply_runtime) == [DRAIN]


def test_the_drainer_yields_to_a_waiting_ack_after_one_batch(reply_runtime, twilio_api, monkeypatch):
    size = batch_size(reply_runtime)
    ids = [reply(reply_runtime, n) for n in range(2 * size)]
    with reply_runtime.transaction() as session:
        ack = outbox_rows.outbox(session, reply_runtime, kind="reply", phone="+4791239999").id
    queue = reply_runtime.queue(SEND_QUEUE)

    def send_and_ack(batch, now=None):
        if not queue.count:
            # A button press during the first batch: its ack is queued as telegram_updates does, at the front.
            queue.enqueue(send_outbox, [ack], at_front=True)
        return send_outbox(batch, now)

    monkeypatch.setattr(replies, "send_outbox", send_and_ack)
    assert run_next(reply_runtime) == {"sent": size}
    # The drainer stopped after that batch and handed over behind the ack, the drain still pending.
    assert jobs(reply_runtime) == [SEND, DRAIN]
    assert reply_runtime.redis.exists(FLAG_KEY) == 1 and listed_ids(reply_runtime.redis) == set(ids[size:])
    monkeypatch.setattr(replies, "send_outbox", send_outbox)
    assert run_next(reply_runtime) == {"sent": 1}
    assert run_next(reply_runtime) == {"sent": size}
    assert statuses(reply_runtime, ids + [ack]) == ["sent"] * (2 * size + 1)
    assert jobs(reply_runtime) == [] and reply_runtime.redis.exists(FLAG_KEY, LIST_KEY) == 0


def test_a_drainer_hands_over_after_drain_seconds(reply_runtime, twilio_api, monkeypatch):
    size = batch_size(reply_runtime)
    ids = [reply(reply_runtime, n) for n in range(2 * size)]
    monkeypatch.setattr(replies, "DRAIN_SECONDS", 0)
    # Each drainer sends one batch however late it is, then queues the next.
    assert run_next(reply_runtime) == {"sent": size}
    assert jobs(reply_runtime) == [DRAIN]
    assert reply_runtime.redis.exists(FLAG_KEY) == 1 and len(listed_ids(reply_runtime.redis)) == size
    # A push meanwhile queues no other drainer.
    reply(reply_runtime, 2 * size)
    assert jobs(reply_runtime) == [DRAIN]
    run_all(reply_runtime)
    assert statuses(reply_runtime, ids) == ["sent"] * (2 * size)
    assert reply_runtime.redis.exists(FLAG_KEY, LIST_KEY) == 0


def test_queue_outbound_pushes_replies_and_queues_other_kinds_as_send_jobs(reply_runtime):
    outbound = [Outbound(text="1/3 Hvordan går det?")]
    address = reply_runtime.vault.encrypt(outbox_rows.PHONE)
    with reply_runtime.transaction() as session:
        answer = queue_outbound(session, reply_runtime, channel="sms", address_enc=address, outbound=outbound)
        reminder = queue_outbound(session, reply_runtime, channel="sms", address_enc=address, outbound=outbound, kind="reminder")
    assert listed_ids(reply_runtime.redis) == set(answer)
    send_jobs = [job for job in reply_runtime.queue(SEND_QUEUE).jobs if job.func_name == SEND]
    assert [job.args for job in send_jobs] == [(reminder,)]
    assert sorted(jobs(reply_runtime)) == sorted([DRAIN, SEND])


@pytest.mark.redis
def test_the_preloading_worker_drains_in_process(real_redis, twilio_config, twilio_api):
    runtime = Runtime(twilio_config, redis=real_redis)
    runtimes.install(runtime)
    try:
        ids = [reply(runtime, n) for n in range(3)]
        other = runtime.queue(DEFAULT_QUEUE).enqueue(os.getpid)
        PreloadingWorker([runtime.queue(SEND_QUEUE), runtime.queue(DEFAULT_QUEUE)], connection=real_redis).work(burst=True)
        assert statuses(runtime, ids) == ["sent"] * 3
        # The drain ran in this process (its channel is this runtime's); other jobs still fork.
        assert "sms" in runtime.__dict__["_channels"]
        assert other.return_value() not in (None, os.getpid())
        assert real_redis.exists(FLAG_KEY, LIST_KEY) == 0
    finally:
        runtimes.install(None)
