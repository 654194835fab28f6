"""Telegram's rate limits, shared by every worker through Redis: one message a second per chat, ~30 overall.

Telegram answers a bot that sends faster with 429 and a `retry_after`; pacing
keeps us under the limits instead of leaning on the penalty. Keys carry a
keyed hash of the chat, never the chat id (A4).
"""
import time

from .base import TemporaryFailure

PER_CHAT_SECONDS = 1.0
PER_SECOND = 30
# Waiting longer than this holds a worker for nothing: the job is put back instead.
MAX_WAIT_SECONDS = 3.0
PREFIX = "svar:telegram:pace:"


class Pacer:
    """Waits until a message to a chat may go out, or says how long to come back after."""

    def __init__(self, redis, chat_key, per_second: int = PER_SECOND, per_chat_seconds: float = PER_CHAT_SECONDS, clock=time.time, sleep=time.sleep):
        self.redis = redis
        self.chat_key = chat_key  # chat id -> a keyed hash, so Redis never holds chat ids
        self.per_second = per_second
        self.per_chat_seconds = per_chat_seconds
        self.clock = clock
        self.sleep = sleep

    def wait(self, chat_id: str):
        """Block until both limits allow one more message to `chat_id`; TemporaryFailure if that is far off."""
        deadline = self.clock() + MAX_WAIT_SECONDS
        self._wait_for_chat(chat_id, deadline)
        self._wait_for_slot(deadline)

    def sent(self, chat_id: str):
        """The message reached Telegram: the chat's second starts now, not when we began sending."""
        self.redis.set(self._chat(chat_id), b"1", px=max(1, int(self.per_chat_seconds * 1000)))

    def hold(self, chat_id: str, seconds: float):
        """Telegram said 429: nobody writes to this chat for `seconds`."""
        self.redis.set(self._chat(chat_id), b"429", px=max(1, int(seconds * 1000)))

    def _wait_for_chat(self, chat_id, deadline):
        key = self._chat(chat_id)
        while not self.redis.set(key, b"1", nx=True, px=max(1, int(self.per_chat_seconds * 1000))):
            remaining = self.redis.pttl(key)
            if remaining is None or remaining < 0:
                continue  # expired between SET and PTTL
            self._sleep_until(self.clock() + remaining / 1000, deadline)

    def _wait_for_slot(self, deadline):
        # A fixed one-second window: simple, and bursts at a window's edge
        # stay far below what makes Telegram answer 429.
        while True:
            now = self.clock()
            second = int(now)
            key = f"{PREFIX}second:{second}"
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            taken = pipe.execute()[0]
            if taken <= self.per_second:
                return
            self._sleep_until(second + 1, deadline)

    def _sleep_until(self, moment, deadline):
        if moment > deadline:
            raise TemporaryFailure("paced: Telegram's limits", "paced", retry_after=max(1.0, moment - self.clock()))
        self.sleep(max(0.0, moment - self.clock()))

    def _chat(self, chat_id):
        return f"{PREFIX}chat:{self.chat_key(chat_id)}"
