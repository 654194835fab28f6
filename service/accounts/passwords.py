"""Password hashing with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """The encoded Argon2id hash of `password`, salt and parameters included."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches; False for a wrong password or an unusable hash."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with older parameters; rehash after a good login."""
    return _hasher.check_needs_rehash(password_hash)


# Short names, for callers that write passwords.hash(...) and passwords.verify(...).
hash = hash_password  # noqa: A001
verify = verify_password
