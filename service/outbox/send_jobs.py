"""Send jobs, enqueued by dotted name after commit: service never imports the workers that run them."""
from sqlalchemy.orm import Session

from ..infra import runtime as runtimes
from ..infra.queue import SEND_QUEUE
from ..infra.queue import SEND_RETRY
from ..infra.queue import after_commit

# The job's dotted path is stored in Redis with each job: renaming it strands the jobs queued before a deploy.
SEND_JOB = "workers.send.send_outbox"


def enqueue_send(session: Session, outbox_ids: list[int]):
    """Queue send jobs for these outbox ids once the session commits, send_batch ids per job."""
    runtime = session.info.get("runtime") or runtimes.current()
    size = max(1, runtime.config.send_batch)
    ids = list(outbox_ids)
    for start in range(0, len(ids), size):
        after_commit(session, SEND_JOB, ids[start : start + size], queue=SEND_QUEUE, retry=SEND_RETRY)


def enqueue_send_by_lane(session: Session, rows):
    """Queue send jobs for (id, campaign id, channel) rows, one campaign and channel per job: a bad batch holds up only its own."""
    lanes: dict[tuple, list[int]] = {}
    for outbox_id, campaign_id, channel in rows:
        lanes.setdefault((campaign_id or 0, channel), []).append(outbox_id)
    for key in sorted(lanes):
        enqueue_send(session, lanes[key])
