"""Code guessing, rate limited (A7): tries of one-time codes counted per sender, per campaign and overall in Redis.

A try is taken before a typed code is looked up and given back when the
code was real, so what stays counted are wrong codes. Three counters, each
with its own limit in a window of `code_attempt_window` seconds from its
first try:
- the sender's (`code_attempts`), keyed by their keyed address hash;
- each open campaign the sender is known to, by an invitation sent to their
  address (`code_attempts_campaign`): a wrong code names no campaign, so
  only a sender a campaign knows can be counted against it;
- the whole deployment's (`code_attempts_global`), for every sender
  without an open invitation: a guesser with many numbers meets it.
Taking a try checks and counts all of them in one Lua script, so a burst of
parallel wrong codes cannot pass more tries than the limit.

If Redis is unreachable the limiter fails open: the database is Svar's
source of truth and Redis may vanish (DESIGN.md), and refusing every code
during an outage would turn away every respondent holding a printed code.
The risk of failing open is small: a guess hits one of N live codes with
probability N / 2**40, and each guess costs the guesser a message.
"""
import logging
from datetime import timedelta

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "svar:code-attempts:"
CAMPAIGN_PREFIX = PREFIX + "campaign:"
GLOBAL_KEY = PREFIX + "all"

# KEYS: counters; ARGV: window, then one limit per key. Returns the first
# counter's count with this try, or 0 when a limit is reached (nothing counted).
_TAKE = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    return 0
  end
end
local first = 0
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then
    redis.call('EXPIRE', key, tonumber(ARGV[1]))
  end
  if i == 1 then first = count end
end
return first
"""
# Only counters still in their window: a refund never starts a new one.
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 and tonumber(redis.call('GET', key)) > 0 then
    redis.call('DECR', key)
  end
end
return 0
"""
_UNAVAILABLE = (RedisError, RuntimeError)


def _key(address_hash: str) -> str:
    return PREFIX + address_hash


def _sender(address_hash: str) -> str:
    # Eight hex digits tell log lines of one sender apart and identify no one.
    return address_hash[:8]


def _counters(runtime, address_hash: str, campaign_ids, overall: bool) -> tuple[list[str], list[int]]:
    config = runtime.config
    keys, limits = [_key(address_hash)], [config.code_attempts]
    for campaign_id in sorted(set(campaign_ids)):
        keys.append(f"{CAMPAIGN_PREFIX}{campaign_id}")
        limits.append(config.code_attempts_campaign)
    if overall:
        keys.append(GLOBAL_KEY)
        limits.append(config.code_attempts_global)
    return keys, limits


def window(runtime) -> timedelta:
    """How long a counter lasts from its first try: what a refused sender must wait at most."""
    return timedelta(seconds=runtime.config.code_attempt_window)


def take_try(runtime, address_hash: str, campaign_ids=(), overall: bool = True) -> int | None:
    """Count one try of a code; the sender's count with it (0 if Redis is down), or None when a limit is reached."""
    keys, limits = _counters(runtime, address_hash, campaign_ids, overall)
    try:
        count = int(runtime.redis.eval(_TAKE, len(keys), *keys, runtime.config.code_attempt_window, *limits))
    except _UNAVAILABLE:
        log.warning("code attempt limiter unavailable (Redis); allowing the attempt")
        return 0
    if count == 0:
        log.warning("code attempts refused for sender %s: limit reached", _sender(address_hash))
        return None
    return count


def give_back(runtime, address_hash: str, campaign_ids=(), overall: bool = True) -> None:
    """The code tried was real: the try does not count."""
    keys, _limits = _counters(runtime, address_hash, campaign_ids, overall)
    try:
        runtime.redis.eval(_GIVE_BACK, len(keys), *keys)
    except _UNAVAILABLE:
        log.warning("code attempt limiter unavailable (Redis); a real code stays counted")


def log_wrong_code(address_hash: str, count: int) -> None:
    """Log a wrong code by the sender's hash prefix, never the address or the code."""
    if count:
        log.info("wrong one-time code from sender %s (%d in this window)", _sender(address_hash), count)
