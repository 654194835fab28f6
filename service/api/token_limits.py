"""Wrong API tokens, rate limited per client address in Redis.

A token carries 256 random bits, so guessing one is hopeless; the limit is
there so that a scanner trying made-up tokens is refused early, shows in the
log, and costs no more database lookups. While an address is blocked every
token from it is refused, the right one too, as for logins. Unlike logins it
fails open when Redis is down: valid integrations must keep working through
a Redis outage, and 256-bit tokens need no counter to stay unguessable.
"""
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LIMIT = 20
WINDOW_SECONDS = 15 * 60
PREFIX = "svar:token-failures:"


def _key(ip: str | None) -> str:
    return PREFIX + (ip or "unknown")


def retry_after(redis, ip: str | None) -> int:
    """Seconds until the address may try tokens again; 0 if it may now."""
    key = _key(ip)
    try:
        with redis.pipeline() as pipe:
            pipe.get(key)
            pipe.ttl(key)
            count, ttl = pipe.execute()
    except (RedisError, RuntimeError):
        log.warning("API token limiter unavailable (Redis); allowing the attempt")
        return 0
    if count is None or int(count) < LIMIT:
        return 0
    return max(int(ttl), 1)


def failed(redis, ip: str | None) -> int:
    """Count one wrong token from the address; its count in the window (0 if unknown)."""
    key = _key(ip)
    try:
        with redis.pipeline() as pipe:
            # The window runs from the first failure; INCR keeps the TTL.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
    except (RedisError, RuntimeError):
        log.warning("API token limiter unavailable (Redis); a wrong token went uncounted")
        return 0
    log.warning("wrong API token from %s (%d in this window)", ip, count)
    return count
