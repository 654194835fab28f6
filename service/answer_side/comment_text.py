"""Free text as staff may see it: no control characters, no bidi overrides or isolates."""
import re
import unicodedata

# Characters that reorder or hide text on screen ("Trojan Source"): a comment
# could otherwise show staff something other than what it says, or break out
# of its line. Zero-width joiners stay: Persian and Indic scripts need them.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\u0085\v\f]+")


def shown_comment(text: str) -> str:
    """`text` with line breaks as spaces and control and bidi control characters removed."""
    one_line = _LINE_BREAKS.sub(" ", text or "")
    return "".join(
        ch for ch in one_line if ch not in _BIDI_CONTROLS and unicodedata.category(ch) != "Cc"
    ).strip()
