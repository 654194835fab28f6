"""One-time codes: the shared alphabet and how a typed code is normalised (A7)."""
import re
import unicodedata

# No 0/O and no 1/I: the pairs people confuse when reading a printed letter.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MIN_LENGTH = 8
MAX_LENGTH = 32

# People group codes as printed ("ABCD-EFGH") or however their keyboard likes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.·/]+")
_ALLOWED = frozenset(ALPHABET)


def normalise_code(text: str) -> str | None:
    """Return the canonical code typed in `text`, or None if it cannot be a code.

    Separators are dropped and case is folded. Characters outside the alphabet
    (including 0, O, 1 and I) are not guessed at: a wrong guess would spend
    someone else's code, so a message containing them is simply not a code.
    """
    folded = unicodedata.normalize("NFKC", text or "").strip().upper()
    compact = _SEPARATORS.sub("", folded)
    if not MIN_LENGTH <= len(compact) <= MAX_LENGTH:
        return None
    if not set(compact) <= _ALLOWED:
        return None
    # A plain word like "QUESTION" fits the alphabet too; real codes mix in digits
    # often, but we cannot require it, so callers still look the code up.
    return compact
