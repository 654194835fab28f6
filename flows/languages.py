"""Language codes, their names from CLDR, and how a respondent's language is settled.

Svar writes a language as a gettext locale name: "nb", "fa_AF". What comes
in from outside (Telegram's "nb-NO", an upload's "FA-af", an invitation's
"no") is normalised here, then resolved against the survey's languages.
"""
from functools import lru_cache

from babel import Locale
from babel import UnknownLocaleError

# The languages Svar ships catalogs for; `svar translate check` requires each one.
SHIPPED = ("nb", "nn", "da", "sv", "en", "ar", "so", "ti", "fa", "fa_AF", "uk", "pl")

# Asked for on paper codes and invitations whose language the respondent picks.
ASK = "ask"

# Languages written right to left; render wraps their left-to-right runs.
RTL = frozenset({"ar", "fa", "fa_AF", "ur", "ps", "he", "ckb"})

# Languages whose texts can stay in GSM-7 when typography allows (Polish and
# Somali letters mostly fit; å, æ, ø, ä, ö, é are in GSM 03.38).
GSM7_FRIENDLY = frozenset({"nb", "nn", "da", "sv", "en", "pl", "so"})

# Codes people and systems use that mean a language Svar has under another code.
_ALIASES = {"no": "nb", "nob": "nb", "nno": "nn", "prs": "fa_AF", "fa_af": "fa_AF", "ara": "ar", "som": "so", "tir": "ti", "ukr": "uk", "pol": "pl"}


def normalise(code: str | None) -> str | None:
    """"nb-NO" -> "nb_NO", "FA-af" -> "fa_AF", "no" -> "nb"; None for empty or unreadable codes."""
    if not isinstance(code, str):
        return None
    parts = [p for p in code.strip().replace("-", "_").split("_") if p]
    if not parts or not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3:
        return None
    language = parts[0].lower()
    rest = [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
    joined = "_".join([language, *rest])
    return _ALIASES.get(joined.lower(), _ALIASES.get(language, language) if not rest else joined)


def resolve(code: str | None, available, default: str) -> str:
    """The one of `available` that `code` means: exact, then its base language, else `default`."""
    available = tuple(available)
    code = normalise(code)
    if code is None:
        return default
    if code in available:
        return code
    base = code.split("_")[0]
    if base in available:
        return base
    # "fa" asked and only "fa_AF" offered (or the other way round): same written language.
    relatives = [a for a in available if a.split("_")[0] == base]
    return relatives[0] if relatives else default


def is_rtl(language: str) -> bool:
    """True for languages written right to left."""
    return language in RTL or language.split("_")[0] in RTL


@lru_cache(maxsize=None)
def native_name(language: str) -> str:
    """The language's name in itself, from CLDR: "norsk bokmål", "العربية", "دری"."""
    return _cldr(language, language) or language


@lru_cache(maxsize=None)
def english_name(language: str) -> str:
    """The language's English name, from CLDR: "Norwegian Bokmål", "Dari"."""
    return _cldr(language, "en") or language


def _cldr(language: str, in_locale: str) -> str | None:
    try:
        names = Locale.parse(in_locale).languages
        # CLDR names some regional variants as languages of their own: fa_AF is "Dari".
        return names.get(language) or Locale.parse(language).get_display_name(Locale.parse(in_locale))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
