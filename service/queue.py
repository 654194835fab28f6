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


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session):
    pending = session.info.pop("after_commit", [])
    if not pending:
        return
    runtime = session.info.get("runtime")
    if runtime is None:
        log.warning("jobs after commit but no runtime on the session; the sweeper will pick them up")
        return
    for queue_name, func, args, options in pending:
        try:
            runtime.queue(queue_name).enqueue(func, *args, **options)
        except Exception:
            # The rows are committed: the outbox sweeper re-enqueues them.
            log.exception("enqueue of %s failed; left to the sweeper", getattr(func, "__name__", func))


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session, _previous_transaction):
    session.info.pop("after_commit", None)


def connect(url: str) -> Redis:
    return Redis.from_url(url)


def make_queue(connection: Redis, name: str) -> Queue:
    return Queue(name, connection=connection)
