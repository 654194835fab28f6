"""The replies list's protocol: a Redis list of outbox ids and a "drain pending" flag, kept by two Lua scripts.

The after-commit pipeline (service/infra/queue.py) pushes reply ids and sets the
flag if absent, in one script; only the push that set the flag enqueues a
drain job. The drainer (workers/replies.py) pops a batch at a time; when
the list is empty its pop deletes the flag in the same script, so a push
either lands before that pop (and is popped) or after it (and sets the flag
and enqueues a new drainer): no reply waits for nobody. The flag has a TTL
that each pop refreshes: a killed drainer's flag lapses, the next push
starts another, and the outbox sweeper queues the listed rows as send jobs.
Both sides use this module, so the keys and scripts live in one place; it
imports nothing, so the after-commit hook (service/infra/queue.py) can import it.
"""
# The drain job, enqueued by its dotted name: jobs already in Redis name it so.
DRAIN_JOB = "workers.replies.drain_replies"

LIST_KEY = "svar:replies"
FLAG_KEY = "svar:replies:drain"
# Refreshed by every pop, so longer than a batch takes. A killed drainer's replies wait this long for the
# next push to start another (the soak's SIGKILLs stalled them a minute at 60 s). Should a slow batch or a
# hand-over job waiting behind a backlog outlast it, the next push starts a second drainer: both pop, none twice.
FLAG_SECONDS = 10
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


def enqueue_drain(send_queue):
    """A drain job on the send queue (whoever calls this holds the flag), by name: service never imports workers."""
    return send_queue.enqueue(DRAIN_JOB)


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
