"""One-time codes (A7): drawn from a CSPRNG, shown grouped, stored only as keyed hashes."""
import base64
import secrets

from flows.codes import ALPHABET
from flows.codes import normalise_code

CODE_LENGTH = 8


def new_code() -> str:
    """A fresh code for display, e.g. "K7QM-3XWD" (40 bits from an unambiguous alphabet)."""
    # 32 letters, 5 bits each: 40 random bits map onto 8 letters exactly,
    # uniformly, at a fraction of the cost of 8 calls to secrets.choice.
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    raw = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(0, 5 * CODE_LENGTH, 5))
    return f"{raw[:4]}-{raw[4:]}"


# Base32 writes 5 bits a letter, like new_code: the same 32 letters in our alphabet.
_FROM_BASE32 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET)


def new_codes(count: int) -> list[str]:
    """`count` fresh codes in their canonical form, without the hyphen ("K7QM3XWD"): 40 random bits each."""
    # One draw and one C-level encoding for all of them: a launch draws 100,000.
    letters = base64.b32encode(secrets.token_bytes(5 * count)).decode("ascii").translate(_FROM_BASE32)
    return [letters[start : start + CODE_LENGTH] for start in range(0, CODE_LENGTH * count, CODE_LENGTH)]


def display(code: str) -> str:
    """A canonical code grouped for reading: "K7QM3XWD" -> "K7QM-3XWD"."""
    return f"{code[:4]}-{code[4:]}"


def code_hash(vault, code: str) -> str | None:
    """The stored form of a code as the respondent typed it, or None if it cannot be one."""
    normalised = normalise_code(code)
    return vault.code_hash(normalised) if normalised else None
