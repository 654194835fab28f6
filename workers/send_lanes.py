"""A send job's lanes: threads that take the job's ids one at a time, and what happened to each.

The lanes overlap the provider's answer times. The first lane goes alone
until a message is settled, so a provider that is down or throttling gets one
request from the job, not one per lane; the first error of any lane stops
the others and is raised for RQ to retry.
"""
import threading

SENT = "sent"
SKIPPED = "skipped"
# Outside the sending window: pending with not_before, the rest of the batch goes on.
WAITING = "waiting"
# The provider's queue is full: pending with not_before, the rest of the batch waits too.
HELD = "held"
DEFERRED = "deferred"
# This row alone raised something unforeseen: back to pending for the job's retry, the rest of the batch goes on.
RETRY = "retry"
FAILED = "failed"
# And so on SQLite two lanes are enough: one in the database while the other waits on the provider. More only
# queue at that turn, each hand-off a thread switch and a contended GIL: on a busy machine one worker sent
# 570-690 invitations/s with two lanes and 350-360/s with four; on a quiet one 666/s at 1.2 ms of CPU a message
# against 633/s at 1.3 ms (PostgreSQL, whose lanes overlap round trips, gains from four).
SQLITE_LANES = 2


def lane_count(runtime, messages: int) -> int:
    """How many lanes a job of `messages` sends through: `send_concurrency`, at most SQLITE_LANES on SQLite."""
    lanes = max(1, runtime.config.send_concurrency)
    if runtime.config.is_sqlite:
        lanes = min(lanes, SQLITE_LANES)
    return max(1, min(lanes, messages))


class Feed:
    """A job's ids, handed to its lanes one at a time, and what happened to each."""

    def __init__(self, outbox_ids):
        self.ids = list(outbox_ids)
        self.outcomes = {}
        self.retry_after = None
        self._next = 0
        self._stopped = False
        self._lock = threading.Lock()
        # Set once the first message is settled without a deferral or hold (or the job stops): the other
        # lanes wait for it, so a provider that is down or throttling gets one request from the job, not one per lane.
        self.flowing = threading.Event()

    def take(self) -> int | None:
        """The next id to send, or None when all are taken or the job stops."""
        with self._lock:
            if self._stopped or self._next >= len(self.ids):
                return None
            self._next += 1
            return self.ids[self._next - 1]

    def report(self, outbox_id: int, outcome: str, retry_after: float | None):
        with self._lock:
            self.outcomes[outbox_id] = outcome
            if retry_after is not None:
                self.retry_after = max(self.retry_after or 0.0, retry_after)
            if outcome == HELD:
                # The provider's queue is full: the rest stays pending, untouched,
                # and the outbox sweeper brings it back as the queue drains.
                self._stopped = True
            elif outcome == DEFERRED:
                # The provider is throttling or down: the rest of the batch stays
                # pending for the retry instead of hammering it now.
                for rest in self.ids[self._next :]:
                    self.outcomes.setdefault(rest, DEFERRED)
                self._next = len(self.ids)
                self._stopped = True
        self.flowing.set()

    def stop(self):
        """No lane takes another id; those in flight finish and are recorded."""
        with self._lock:
            self._stopped = True
        self.flowing.set()


def run_lanes(feed: Feed, count: int, work):
    """`count` lanes in threads, each running `work(feed)`; the first error of any lane stops the others and is raised."""
    errors = []

    def lane(first: bool):
        try:
            if not first:
                feed.flowing.wait()
            work(feed)
        except BaseException as exc:
            errors.append(exc)
        finally:
            # Also wakes the waiting lanes when the first one ran out of ids, or failed.
            if errors:
                feed.stop()
            feed.flowing.set()

    threads = [threading.Thread(target=lane, args=(n == 0,), name=f"send-lane-{n}", daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        # RQ's job timeout or a cold shutdown, raised in this thread: no lane starts
        # another message, and those in flight are recorded before the job ends.
        feed.stop()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
