"""One-time codes: the shared alphabet and how a typed code is read however it arrives (A7)."""
import re
import unicodedata

# No 0/O and no 1/I: the pairs people confuse when reading a printed letter.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MIN_LENGTH = 8
MAX_LENGTH = 32

# People group codes as printed ("ABCD-EFGH") or however their keyboard likes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.·/]+")
_ALLOWED = frozenset(ALPHABET)

# Invisible characters a code picks up on its way: the bidi marks, embeddings
# and isolates Svar itself puts around Latin runs in right-to-left text
# (flows/bidi.py), and zero-width characters that copy and paste carry along.
INVISIBLE = frozenset(
    "\u200e\u200f\u061c"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
    "\u200b\u200c\u200d\u2060\ufeff"
)

# Cyrillic and Greek capitals that look like a Latin letter of the alphabet
# (keyboards switched to another script). Lower case is upper-cased first.
# Look-alikes of O and I map to O and I, which the alphabet excludes: they
# stay not-a-code rather than being guessed at.
LOOKALIKES = {
    # Cyrillic
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M",
    "\u041d": "H", "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T",
    "\u0425": "X", "\u0423": "Y", "\u04ae": "Y", "\u0405": "S", "\u0408": "J",
    "\u0406": "I", "\u0417": "3",
    # Greek
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H",
    "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O",
    "\u03a1": "P", "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X",
}
_LOOKALIKES = str.maketrans(LOOKALIKES)


def _latin_digit(ch: str) -> str:
    # Arabic-Indic, Persian, Devanagari, Bengali ... digits as the ASCII digit they mean.
    value = unicodedata.decimal(ch, None)
    return ch if value is None else str(value)


def read_code_text(text: str) -> str:
    """`text` folded the way a code is read: NFKC, no invisible marks, upper case, Latin look-alikes and digits."""
    folded = unicodedata.normalize("NFKC", text or "")
    visible = "".join(_latin_digit(ch) for ch in folded if ch not in INVISIBLE)
    return visible.upper().translate(_LOOKALIKES)


def normalise_code(text: str) -> str | None:
    """The canonical code typed in `text` (separators dropped, upper case), or None."""
    # 0, O, 1 and I are outside the alphabet and are not guessed at: a wrong
    # guess could spend someone else's code, so such a message is not a code.
    compact = _SEPARATORS.sub("", read_code_text(text).strip())
    if not MIN_LENGTH <= len(compact) <= MAX_LENGTH:
        return None
    if not set(compact) <= _ALLOWED:
        return None
    # Words like "yes please" fit the alphabet too, and a real code may hold no
    # digit at all, so only the caller's lookup can tell a code from a word.
    return compact
