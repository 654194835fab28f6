"""How many SMS segments a text takes, and typography that keeps a text in GSM-7.

GSM-7 packs 160 septets in one SMS, or 153 per part of a longer one (the
rest is the concatenation header); characters of the extension table (€ [ ]
{ } ^ ~ | \\) take two septets and never straddle two parts. One character
outside GSM-7 switches the whole message to UCS-2: 70 UTF-16 code units, 67
per part, an emoji being two units that are never split.
"""
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7 = "GSM-7"
UCS2 = "UCS-2"
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# Typographic characters that force UCS-2, and the GSM-7 text that means the same.
_TYPOGRAPHY = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-",
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ",
    "\u200b": "", "\ufeff": "", "\u00ad": "",
}
_TRANSLATE = str.maketrans(_TYPOGRAPHY)


@dataclass(frozen=True)
class SegmentCount:
    """The encoding an SMS needs, its length in that encoding's units, and its parts."""

    encoding: str
    units: int
    segments: int

    def to_dict(self) -> dict:
        return {"encoding": self.encoding, "units": self.units, "segments": self.segments}


def septets(ch: str) -> int | None:
    """Septets of one character in GSM-7 (1 basic, 2 extension), None if it has none."""
    try:
        return len(ch.encode("gsm03.38"))
    except UnicodeError:
        return None


def is_gsm7(text: str) -> bool:
    """True if every character of `text` exists in GSM 03.38 (basic or extension table)."""
    return all(septets(ch) is not None for ch in text)


def count(text: str) -> SegmentCount:
    """The SMS segments of `text`; an empty text takes none."""
    costs = [septets(ch) for ch in text]
    if all(c is not None for c in costs):
        encoding = GSM7
    else:
        encoding = UCS2
        # UTF-16 code units: a character beyond the BMP (most emoji) is a surrogate pair.
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    single, part = _LIMITS[encoding]
    units = sum(costs)
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    if units <= single:
        return SegmentCount(encoding, units, 1)
    return SegmentCount(encoding, units, _parts(costs, part))


def _parts(costs: list[int], size: int) -> int:
    """Parts of at most `size` units, never splitting a character's units across two."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > size:
            parts, used = parts + 1, 0
        used += cost
    return parts


def gsm_safe(text: str) -> str:
    """`text` with curly quotes, dashes, ellipses and odd spaces made plain, so GSM-7 can carry it."""
    return text.translate(_TRANSLATE)

