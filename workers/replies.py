"""Replies through one Redis list: callers push outbox ids after commit, one drain job sends them in batches.

A reply was one RQ job, and RQ's bookkeeping cost about twice the send.
Now the after-commit pipeline pushes the ids to a list and sets a "drain
pending" flag if absent, in one script; only the push that set the flag
enqueues a drain job. The drainer pops a batch at a time and sends it as
any send job does (workers.send.send_outbox: lanes, pacing, retries); when
the list is empty its pop deletes the flag in the same script, so a push
either lands before that pop (and is popped) or after it (and sets the flag
and enqueues a new drainer): no reply waits for nobody. The flag has a TTL
that each pop refreshes: a killed drainer's flag lapses, the next push
starts another, and the outbox sweeper queues the listed rows as send jobs.
The outbox row stays the truth: a row popped twice is claimed once.
"""
import logging
import time
from collections import Counter
from datetime import datetime
from datetime import timedelta

from rq import Retry
from rq.timeouts import JobTimeoutException

from service import runtime as runtimes
from service.queue import SEND_QUEUE
from service.queue import SEND_RETRY
from workers.send import lane_count
from workers.send import send_outbox

log = logging.getLogger(__name__)

LIST_KEY = "svar:replies"
FLAG_KEY = "svar:replies:drain"
# Refreshed by every pop, so longer than a batch takes. A killed drainer's replies wait this long for the
# next push to start another (the soak's SIGKILLs stalled them a minute at 60 s). Should a slow batch or a
# hand-over job waiting behind a backlog outlast it, the next push starts a second drainer: both pop, none twice.
FLAG_SECONDS = 10
# A drainer hands over to a fresh job after this, so the list does not hold a worker for ever.
DRAIN_SECONDS = 5
# Ids per push script call: Lua's unpack() has a stack limit.
PUSH_CHUNK = 1000

# KEYS: list, flag. ARGV: flag seconds, ids. Returns 1 if this push set the flag (the caller enqueues a drainer).
_PUSH = """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return 1
end
return 0
"""

EMPTY = 0
YIELD = 1
BATCH = 2
# KEYS: list, flag, send queue. ARGV: batch size, flag seconds, "1" to yield to waiting jobs.
# Returns {EMPTY} (the flag is gone), {YIELD} (others wait; the flag stays) or {BATCH, id, ...}.
_POP = """
local size = tonumber(ARGV[1])
if ARGV[3] == '1' and redis.call('LLEN', KEYS[3]) > 0 then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
  return {1}
end
local ids = redis.call('LRANGE', KEYS[1], 0, size - 1)
if #ids == 0 then
  redis.call('DEL', KEYS[2])
  return {0}
end
redis.call('LTRIM', KEYS[1], #ids, -1)
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
table.insert(ids, 1, 2)
return ids
"""


def push(pipe, outbox_ids: list[int]):
    """Queue the push of these ids on a Redis pipeline; each of its results is 1 if it set the flag."""
    ids = list(outbox_ids)
    for start in range(0, len(ids), PUSH_CHUNK):
        # EVAL, not EVALSHA: a pipeline with a registered script asks SCRIPT EXISTS first, one more round trip.
        pipe.eval(_PUSH, 2, LIST_KEY, FLAG_KEY, FLAG_SECONDS, *ids[start : start + PUSH_CHUNK])


def pushes(count: int) -> int:
    """How many script calls push() queues for `count` ids."""
    return -(-count // PUSH_CHUNK)


def enqueue_drain(runtime):
    """A drain job on the send queue (whoever calls this holds the flag)."""
    return runtime.queue(SEND_QUEUE).enqueue(drain_replies)


def pop(redis, size: int, queue_key: str, yield_to_others: bool = False) -> tuple[int, list[int]]:
    """(EMPTY, []), (YIELD, []) or (BATCH, up to `size` ids), as the pop script decides atomically.

    YIELD only with `yield_to_others` and jobs waiting in the queue at `queue_key`.
    """
    reply = redis.eval(_POP, 3, LIST_KEY, FLAG_KEY, queue_key, size, FLAG_SECONDS, "1" if yield_to_others else "0")
    return int(reply[0]), [int(outbox_id) for outbox_id in reply[1:]]


def listed_ids(redis) -> set[int]:
    """Ids in the list while a drain is pending; none once the flag lapsed (a killed drainer: the sweeper takes them)."""
    with redis.pipeline() as pipe:
        pipe.exists(FLAG_KEY)
        pipe.lrange(LIST_KEY, 0, -1)
        pending, ids = pipe.execute()
    return {int(outbox_id) for outbox_id in ids} if pending else set()


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
        enqueue_drain(runtime)
    except Exception as exc:
        # The flag lapses within FLAG_SECONDS: the next push starts a drainer, the sweeper queues what waits longer.
        log.warning("replies: no hand-over drain job (%s); the flag's TTL recovers", type(exc).__name__)
