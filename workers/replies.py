"""The replies drainer: one job sends the replies list's ids in batches (the list itself: service/infra/reply_list.py).

A reply was one RQ job, and RQ's bookkeeping cost about twice the send.
Now the after-commit pipeline pushes the ids to a list; the drainer pops a
batch at a time and sends it as any send job does (workers.send.send_outbox:
lanes, pacing, retries), and hands over to a fresh job now and then.
The outbox row stays the truth: a row popped twice is claimed once.
"""
import logging
import time
from collections import Counter
from datetime import datetime
from datetime import timedelta

from rq import Retry
from rq.timeouts import JobTimeoutException

from service.infra import runtime as runtimes
from service.infra.queue import SEND_QUEUE
from service.infra.queue import SEND_RETRY
from service.infra.reply_list import EMPTY
from service.infra.reply_list import YIELD
from service.infra.reply_list import enqueue_drain
from service.infra.reply_list import pop
from workers.send_lanes import lane_count
from workers.send import send_outbox

log = logging.getLogger(__name__)

# A drainer hands over to a fresh job after this, so the list does not hold a worker for ever.
DRAIN_SECONDS = 5


def batch_size(runtime) -> int:
    """Ids per pop: one per send lane, so a Telegram ack (queued at the front) waits behind one message per lane, as behind one reply job before."""
    return lane_count(runtime, runtime.config.send_batch)


def drain_replies(now: datetime | None = None) -> dict:
    """Send listed replies a batch at a time until the list is empty, other send jobs wait, or DRAIN_SECONDS pass."""
    runtime = runtimes.current()
    redis = runtime.redis
    size = batch_size(runtime)
    queue_key = runtime.queue(SEND_QUEUE).key
    started = time.monotonic()
    summary = Counter()
    first = True
    while True:
        # The first pop always takes a batch, whatever the clock and the queue say: each drainer sends something.
        if not first and time.monotonic() - started >= DRAIN_SECONDS:
            _hand_over(runtime)
            break
        status, batch = pop(redis, size, queue_key, yield_to_others=not first)
        if status == EMPTY:
            break
        if status == YIELD:
            # An ack (queued at the front) or a wave is waiting: it runs first, this list after it.
            _hand_over(runtime)
            break
        first = False
        summary.update(_send(runtime, batch, now))
    return dict(summary)


def _send(runtime, batch: list[int], now) -> dict:
    try:
        return send_outbox(batch, now)
    except JobTimeoutException:
        _retry_later(runtime, batch)
        _hand_over(runtime)
        raise
    except Exception as exc:
        # As RQ retried a reply job that raised: the batch again after the first interval, with the retries left.
        log.warning("replies: a batch of %d failed (%s); retried as a send job", len(batch), type(exc).__name__)
        _retry_later(runtime, batch)
        return {"deferred": len(batch)}
    except BaseException:
        # A cold shutdown: the batch and the rest of the list go to other workers.
        _retry_later(runtime, batch)
        _hand_over(runtime)
        raise


def _retry_later(runtime, batch: list[int]):
    """A send job for the batch, due after SEND_RETRY's first interval, carrying its remaining retries."""
    delay, *rest = SEND_RETRY.intervals
    retry = Retry(max=SEND_RETRY.max - 1, interval=rest) if SEND_RETRY.max > 1 else None
    runtime.queue(SEND_QUEUE).enqueue_in(timedelta(seconds=delay), send_outbox, batch, retry=retry)


def _hand_over(runtime):
    """A fresh drain job at the back of the send queue; the flag stays set, so pushes meanwhile enqueue none."""
    try:
        enqueue_drain(runtime.queue(SEND_QUEUE))
    except Exception as exc:
        # The flag lapses within FLAG_SECONDS: the next push starts a drainer, the sweeper queues what waits longer.
        log.warning("replies: no hand-over drain job (%s); the flag's TTL recovers", type(exc).__name__)
