"""Code guessing, rate limited (A7): wrong one-time codes counted per sender in Redis.

A sender who types `code_attempts` wrong codes within `code_attempt_window`
seconds gets a polite "try later" and no lookup until the window has passed.
The counter is keyed by the sender's keyed address hash, never the address,
and logs carry only a short prefix of that hash.

If Redis is unreachable the limiter fails open: the database is Svar's
source of truth and Redis may vanish (DESIGN.md), and refusing every code
during an outage would turn away every respondent holding a printed code.
The risk of failing open is small: a guess hits one of N live codes with
probability N / 2**40, and each guess costs the guesser a message.
"""
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "svar:code-attempts:"


def _key(address_hash: str) -> str:
    return PREFIX + address_hash


def _sender(address_hash: str) -> str:
    # Eight hex digits tell log lines of one sender apart and identify no one.
    return address_hash[:8]


def blocked(runtime, address_hash: str) -> bool:
    """True when the sender has used up their wrong codes for now."""
    try:
        count = runtime.redis.get(_key(address_hash))
    except (RedisError, RuntimeError):
        log.warning("code attempt limiter unavailable (Redis); allowing the attempt")
        return False
    if count is not None and int(count) >= runtime.config.code_attempts:
        log.warning("code attempts refused for sender %s: limit reached", _sender(address_hash))
        return True
    return False


def record_failure(runtime, address_hash: str) -> int:
    """Count one wrong code for the sender; returns their count in the window (0 if unknown)."""
    key = _key(address_hash)
    try:
        with runtime.redis.pipeline() as pipe:
            # The window starts at the first wrong code and is not extended by
            # later ones (INCR keeps the TTL); SET NX works on Redis 6 as well.
            pipe.set(key, 0, ex=runtime.config.code_attempt_window, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
    except (RedisError, RuntimeError):
        log.warning("code attempt limiter unavailable (Redis); a wrong code went uncounted")
        return 0
    log.info("wrong one-time code from sender %s (%d in this window)", _sender(address_hash), count)
    return count
