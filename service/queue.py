"""Redis and RQ: connections, queues, and enqueueing only after commit."""
import logging

from redis import Redis
from rq import Queue
from rq import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SEND_QUEUE = "send"
DEFAULT_QUEUE = "default"
# Provider outages are retried with growing pauses; the outbox sweeper picks
# up anything that still fails after these.
SEND_RETRY = Retry(max=5, interval=[5, 30, 120, 600, 1800])


def after_commit(session: Session, func, *args, queue: str = DEFAULT_QUEUE, **options):
    """Enqueue func(*args) once the session's transaction has committed."""
    session.info.setdefault("after_commit", []).append((queue, func, args, options))


# Jobs per Redis round trip when a transaction queued many (a launch queues thousands).
PIPELINE_JOBS = 500


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session):
    pending = session.info.pop("after_commit", [])
    if not pending:
        return
    runtime = session.info.get("runtime")
    if runtime is None:
        log.warning("jobs after commit but no runtime on the session; the sweeper will pick them up")
        return
    for start in range(0, len(pending), PIPELINE_JOBS):
        try:
            enqueue_all(runtime, pending[start : start + PIPELINE_JOBS])
        except Exception:
            # The rows are committed: the outbox sweeper re-enqueues them.
            log.exception("enqueue of %d jobs failed; left to the sweeper", len(pending[start : start + PIPELINE_JOBS]))


def enqueue_all(runtime, jobs: list[tuple]):
    """Enqueue (queue name, func, args, options) jobs in one pipeline: one Redis round trip for all of them."""
    by_queue: dict[str, list] = {}
    for queue_name, func, args, options in jobs:
        by_queue.setdefault(queue_name, []).append(Queue.prepare_data(func, args, **options))
    with runtime.redis.pipeline() as pipe:
        for queue_name, datas in by_queue.items():
            runtime.queue(queue_name).enqueue_many(datas, pipeline=pipe)
        pipe.execute()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, _previous_transaction):
    session.info.pop("after_commit", None)


def connect(url: str) -> Redis:
    return Redis.from_url(url)


def make_queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)
