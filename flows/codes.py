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
    """The canonical code typed in `text` (separators dropped, upper case), or None."""
    # 0, O, 1 and I are outside the alphabet and are not guessed at: a wrong
    # guess could spend someone else's code, so such a message is not a code.
    folded = unicodedata.normalize("NFKC", text or "").strip().upper()
    compact = _SEPARATORS.sub("", folded)
    if not MIN_LENGTH <= len(compact) <= MAX_LENGTH:
        return None
    if not set(compact) <= _ALLOWED:
        return None
    # Words like "yes please" fit the alphabet too, and a real code may hold no
    # digit at all, so only the caller's lookup can tell a code from a word.
    return compact
