"""One-time codes (A7): drawn from a CSPRNG, shown grouped, stored only as keyed hashes."""
import secrets

from flows.codes import ALPHABET
from flows.codes import normalise_code

CODE_LENGTH = 8


def new_code() -> str:
    """A fresh code for display, e.g. "K7QM-3XWD" (40 bits from an unambiguous alphabet)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(vault, code: str) -> str | None:
    """The stored form of a code as the respondent typed it, or None if it cannot be one."""
    normalised = normalise_code(code)
    return vault.code_hash(normalised) if normalised else None
