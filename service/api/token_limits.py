"""Wrong API tokens, rate limited per client address in Redis.

A token carries 256 random bits, so guessing one is hopeless; the limit is
there so that a scanner trying made-up tokens is refused early and shows in
the log. Only wrong tokens are counted, and a valid token is checked before
the counter is looked at: a blocked address (behind a proxy misconfigured,
a shared NAT) never locks out a real integration. Unlike logins it fails
open when Redis is down: valid integrations must keep working through a
Redis outage, and 256-bit tokens need no counter to stay unguessable.
"""
import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LIMIT = 20
WINDOW_SECONDS = 15 * 60
PREFIX = "svar:token-failures:"


def _key(ip: str | None) -> str:
    return PREFIX + (ip or "unknown")


def failed(redis, ip: str | None) -> int:
    """Count one wrong token from the address; seconds it must wait if it is over the limit, else 0."""
    key = _key(ip)
    try:
        with redis.pipeline() as pipe:
            # The window runs from the first failure; INCR keeps the TTL. MULTI makes the three one step.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = pipe.execute()
    except (RedisError, RuntimeError):
        log.warning("API token limiter unavailable (Redis); a wrong token went uncounted")
        return 0
    log.warning("wrong API token from %s (%d in this window)", ip, count)
    if count <= LIMIT:
        return 0
    return max(int(ttl), 1)
