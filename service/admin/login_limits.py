"""Login rate limits in Redis: per account and per address, failing closed.

After ACCOUNT_LIMIT failed logins for one e-mail, or IP_LIMIT from one
address, within WINDOW, every attempt is refused (even with the right
password) until the window has passed since the last failure. If Redis cannot
be asked, logins are refused too: a limit that silently stops counting is no
limit.
"""
import hashlib

ACCOUNT_LIMIT = 5
IP_LIMIT = 20
WINDOW_SECONDS = 15 * 60
PREFIX = "svar:login-failures:"


class LimiterUnavailable(RuntimeError):
    """Redis did not answer; the caller refuses the login."""


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    # Hashed, so Redis holds no e-mail addresses.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return PREFIX + "account:" + account, PREFIX + "ip:" + (ip or "unknown")


def blocked(redis, email: str, ip: str | None) -> bool:
    """True while the account or the address has used up its failures."""
    account, address = _keys(email, ip)
    try:
        counts = redis.mget(account, address)
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error
    return int(counts[0] or 0) >= ACCOUNT_LIMIT or int(counts[1] or 0) >= IP_LIMIT


def failed(redis, email: str, ip: str | None) -> bool:
    """Count a failure; True if it used up the account's or the address's allowance."""
    account, address = _keys(email, ip)
    try:
        pipe = redis.pipeline()
        pipe.incr(account)
        pipe.expire(account, WINDOW_SECONDS)
        pipe.incr(address)
        pipe.expire(address, WINDOW_SECONDS)
        account_count, _, address_count, _ = pipe.execute()
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error
    return account_count >= ACCOUNT_LIMIT or address_count >= IP_LIMIT


def succeeded(redis, email: str):
    """A good login clears the account's failures (not the address's)."""
    account, _address = _keys(email, None)
    try:
        redis.delete(account)
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error
