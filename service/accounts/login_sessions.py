"""Admin logins kept on the server: a random key in the cookie, its digest, times and end in the database.

Because the row decides, logout, a password change, deactivation and "log out
everywhere" end every copy of a cookie at once, and the idle and absolute
limits (from Config) hold whatever the cookie says about itself.
"""
import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import update

from ..models import LoginSession
from ..models import utcnow

# The idle and absolute limits come from Config (SVAR_SESSION_IDLE_MINUTES, SVAR_SESSION_LIFETIME_HOURS).
# Writing last_seen_at on every page would cost a commit per page; a minute is fine grain for a limit in minutes.
TOUCH_INTERVAL = timedelta(minutes=1)


def _digest(key: str) -> str:
    # 256 random bits need no salt or slow hash; a database dump gives no usable cookie.
    return hashlib.sha256(key.encode()).hexdigest()


def start(session, user_id: int, now: datetime | None = None) -> str:
    """A new session for `user_id`; the key goes into the cookie and is stored only as a digest."""
    key = secrets.token_urlsafe(32)
    now = now or utcnow()
    session.add(LoginSession(user_id=user_id, key_hash=_digest(key), created_at=now, last_seen_at=now))
    session.flush()
    return key


def live(session, key: str, config, now: datetime | None = None, touch: bool = True) -> tuple[LoginSession | None, bool]:
    """(the live session of `key` or None, whether it has just expired under `config`'s limits); an expired one is ended."""
    row = session.scalar(select(LoginSession).where(LoginSession.key_hash == _digest(key)))
    if row is None or row.ended_at is not None:
        return None, False
    now = now or utcnow()
    if _expired(row, config, now):
        row.ended_at = now
        return None, True
    if touch and now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return row, False


def end(session, key: str, now: datetime | None = None):
    """End the session of `key` (logout)."""
    session.execute(
        update(LoginSession).where(LoginSession.key_hash == _digest(key), LoginSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_all(session, user_id: int, now: datetime | None = None) -> int:
    """End every live session of the user; how many there were."""
    result = session.execute(
        update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
    return result.rowcount


def count_live(session, user_id: int, config, now: datetime | None = None) -> int:
    """Sessions of the user not ended and not past either of `config`'s limits."""
    now = now or utcnow()
    rows = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    ).all()
    return sum(1 for row in rows if not _expired(row, config, now))


def _expired(row: LoginSession, config, now: datetime) -> bool:
    return now - row.created_at > config.session_lifetime or now - row.last_seen_at > config.session_idle
