"""API bearer tokens: shown once at creation, stored only as a SHA-256 digest."""
import hashlib
import secrets
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from ..models import ApiToken
from ..models import User
from ..models import utcnow

PREFIX = "svar_"
# Writing last_used_at on every request would turn each read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


def digest(token: str) -> str:
    """The stored form of a token; 256 random bits need no salt or slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session, user: User, name: str) -> str:
    """A new token for `user`; the plain text is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a token needs a name")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_hash=digest(token)))
    session.flush()
    return token


def bearer(header: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    return token


def authenticate(session, header: str | None, now: datetime | None = None) -> User | None:
    """The active user a valid, unrevoked bearer token belongs to, or None."""
    token = bearer(header)
    if token is None:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked or not row.user.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        row.last_used_at = now
    return row.user


def visible_tokens(session, user: User) -> list[ApiToken]:
    """The tokens `user` may list and revoke: their own; an administrator's organisation's."""
    query = select(ApiToken).join(User, ApiToken.user_id == User.id)
    if user.role == "admin":
        query = query.where(User.organisation_id == user.organisation_id)
    else:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query.order_by(ApiToken.id)))


def visible_token(session, user: User, token_id: int) -> ApiToken | None:
    """One token `user` may revoke, or None (also for another organisation's: its existence is not told)."""
    return next((row for row in visible_tokens(session, user) if row.id == token_id), None)


def revoke_token(session, token_id: int) -> bool:
    """Revoke a token by id; False if there is no such token. It answers 401 from the next request on."""
    row = session.get(ApiToken, token_id)
    if row is None:
        return False
    row.revoked = True
    return True
