"""Right-to-left texts that read correctly on a phone, with Latin digits, codes and names inside.

A line of Arabic or Persian starting with "1/17" or with an organisation's
Latin name would otherwise be laid out left to right, and a range like
"1-6" or a code like "ABCD-EFGH" can be torn apart by its neighbours. So
every line of an RTL text starts with a right-to-left mark (RLM) and every
left-to-right run sits in a left-to-right isolate (LRI ... PDI).
"""
import re

from flows.languages import is_rtl

RLM = "\u200f"
LRI = "\u2066"
PDI = "\u2069"
_MARKS = (RLM, LRI, PDI, "\u2067", "\u2068", "\u200e")

# Latin letters and European digits, joined by what belongs inside one run:
# "1-6", "1/17", "1,3", "ABCD-EFGH", "Oslo kommune", "e-post".
_WORD = r"[0-9A-Za-z\u00c0-\u024f]+"
_LTR_RUN = re.compile(rf"{_WORD}(?:[ \-/.:,+'_@]+{_WORD})*")


def for_phone(text: str, language: str) -> str:
    """`text` as it should be sent in `language`; unchanged for left-to-right languages."""
    if not text or not is_rtl(language):
        return text
    return "\n".join(_line(line) for line in text.split("\n"))


def _line(line: str) -> str:
    if not line:
        return line
    # Idempotent: a text that passes through twice gets its marks once.
    plain = "".join(ch for ch in line if ch not in _MARKS)
    return RLM + _LTR_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", plain)


def strip_marks(text: str) -> str:
    """`text` without the direction marks added here, for tests and previews."""
    return "".join(ch for ch in text if ch not in _MARKS)
