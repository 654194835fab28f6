"""Redis and RQ: connections, queues, and enqueueing only after commit."""
import logging

from redis import Redis
from rq import Queue
from rq import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import reply_list

log = logging.getLogger(__name__)

SEND_QUEUE = "send"
DEFAULT_QUEUE = "default"
# Provider outages are retried with growing pauses; the outbox sweeper picks
# up anything that still fails after these.
SEND_RETRY = Retry(max=5, interval=[5, 30, 120, 600, 1800])


def after_commit(session: Session, func, *args, queue: str = DEFAULT_QUEUE, **options):
    """Enqueue func(*args) once the session's transaction has committed."""
    session.info.setdefault("after_commit", []).append((queue, func, args, options))


def after_commit_replies(session: Session, outbox_ids: list[int]):
    """Push these reply ids to the replies list once the session's transaction has committed (service/infra/reply_list.py)."""
    session.info.setdefault("after_commit_replies", []).extend(outbox_ids)


# Jobs per Redis round trip when a transaction queued many (a launch queues thousands).
PIPELINE_JOBS = 500


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session):
    pending = session.info.pop("after_commit", [])
    replies = session.info.pop("after_commit_replies", [])
    if not pending and not replies:
        return
    runtime = session.info.get("runtime")
    if runtime is None:
        log.warning("jobs after commit but no runtime on the session; the sweeper will pick them up")
        return
    # The replies ride in the first pipeline: a step's reply and its other jobs in one round trip.
    for start in range(0, max(1, len(pending)), PIPELINE_JOBS):
        jobs = pending[start : start + PIPELINE_JOBS]
        try:
            enqueue_all(runtime, jobs, replies if start == 0 else ())
        except Exception:
            # The rows are committed: the outbox sweeper re-enqueues them.
            log.exception("enqueue of %d jobs and %d replies failed; left to the sweeper", len(jobs), len(replies) if start == 0 else 0)


def enqueue_all(runtime, jobs: list[tuple], replies: list[int] = ()):
    """Enqueue (queue name, func, args, options) jobs and push reply ids in one pipeline: one Redis round trip for all of them.

    A second round trip only when the push found no drain pending: it enqueues the drain job.
    """
    by_queue: dict[str, list] = {}
    for queue_name, func, args, options in jobs:
        by_queue.setdefault(queue_name, []).append(Queue.prepare_data(func, args, **options))
    with runtime.redis.pipeline() as pipe:
        for queue_name, datas in by_queue.items():
            runtime.queue(queue_name).enqueue_many(datas, pipeline=pipe)
        if replies:
            reply_list.push(pipe, replies)
        results = pipe.execute()
    if replies and any(results[-reply_list.pushes(len(replies)) :]):
        reply_list.enqueue_drain(runtime.queue(SEND_QUEUE))


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, _previous_transaction):
    session.info.pop("after_commit", None)
    session.info.pop("after_commit_replies", None)


# A stalled Redis (a failover, a paused host) must not hang a web request or a job: each call gives up after
# these seconds, so the web answers 503 at once and the sweepers put back what did not reach the queue.
REDIS_CONNECT_TIMEOUT = 2.0
REDIS_TIMEOUT = 5.0


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT, health_check_interval=30)


def make_queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)
