"""Login rate limits in Redis: a slot is reserved before the password is checked, failing closed.

One Lua script checks and counts at once, so a burst of parallel logins
cannot check more passwords than the limit: each attempt takes a slot of the
account (ACCOUNT_LIMIT), of the client address (IP_LIMIT) and of the whole
deployment (GLOBAL_LIMIT, so guessers on many addresses are bounded too)
before argon2 runs. A good password gives its slots back; a wrong one keeps
them. A full account or address refuses only itself; the global ceiling,
reached only by an attack on many accounts from many addresses, refuses
everyone until its window has passed. If Redis cannot be asked, logins are
refused: a limit that silently stops counting is no limit.
"""
import hashlib

ACCOUNT_LIMIT = 5
IP_LIMIT = 20
# Failed logins of the whole deployment per window: far above a municipality's typos.
GLOBAL_LIMIT = 200
WINDOW_SECONDS = 15 * 60
PREFIX = "svar:login-failures:"

# KEYS: account, address, global. ARGV: their limits, then the window.
# Returns 0 if a slot was taken, else the 1-based position of the full key.
_RESERVE = """
for i = 1, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    return i
  end
end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return 0
"""
# A good password: the account starts afresh; the address and the deployment get their slot back.
_RELEASE = """
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 0
"""
ACCOUNT, ADDRESS, DEPLOYMENT = 1, 2, 3


class LimiterUnavailable(RuntimeError):
    """Redis did not answer; the caller refuses the login."""


def _keys(email: str, ip: str | None) -> list[str]:
    # Hashed, so Redis holds no e-mail addresses.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [PREFIX + "account:" + account, PREFIX + "ip:" + (ip or "unknown"), PREFIX + "all"]


def reserve(redis, email: str, ip: str | None) -> int:
    """Take a slot for one password check: 0 if taken, else ACCOUNT, ADDRESS or DEPLOYMENT (the full one)."""
    try:
        return int(redis.eval(_RESERVE, 3, *_keys(email, ip), ACCOUNT_LIMIT, IP_LIMIT, GLOBAL_LIMIT, WINDOW_SECONDS))
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error


def used_up(redis, email: str, ip: str | None) -> bool:
    """True if the account or the address has no slot left (after a failure: it is now locked)."""
    account, address, _all = _keys(email, ip)
    try:
        counts = redis.mget(account, address)
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error
    return int(counts[0] or 0) >= ACCOUNT_LIMIT or int(counts[1] or 0) >= IP_LIMIT


def succeeded(redis, email: str, ip: str | None):
    """A good login: the account's failures are cleared; the address's and deployment's slot comes back."""
    try:
        redis.eval(_RELEASE, 3, *_keys(email, ip))
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error
