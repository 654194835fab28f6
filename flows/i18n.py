"""The engine's own words: gettext catalogs from locales/, English when missing."""
import gettext
import re
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# A Nynorsk reader understands Bokmål far better than English, a Dari reader Persian.
FALLBACKS = {"nn": "nb", "fa_AF": "fa"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


@lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for `language`, falling back along FALLBACKS, then to English msgids."""
    catalog = _load(language)
    fallback = FALLBACKS.get(language)
    if fallback:
        catalog.add_fallback(translations(fallback))
    return catalog


def _load(language: str) -> gettext.NullTranslations:
    folder = LOCALES / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    # The .mo is a build product (make compiles it); trust it only when it is
    # at least as new as the .po, so tests and a fresh checkout see edits at once.
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if po.is_file():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=language.replace("-", "_"), domain=DOMAIN)
        buffer = BytesIO()
        # Fuzzy entries count, as with `make catalogs` (pybabel compile --use-fuzzy).
        write_mo(buffer, catalog, use_fuzzy=True)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return gettext.NullTranslations()


def shipped_languages() -> tuple[str, ...]:
    """The languages with a catalog in locales/ (English needs none, so it is always there)."""
    found = {path.parent.parent.name for path in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found | {"en"}))


class Messages:
    """The engine's phrases in one language; method names match pybabel's default keywords."""

    def __init__(self, language: str):
        self.language = language
        self._catalog = translations(language)

    def gettext(self, message: str, **params) -> str:
        """Translate `message` and fill its %(name)s placeholders."""
        text = self._catalog.gettext(message)
        if not params:
            return text
        return _fill(text, message, params, placeholders(message))

    def ngettext(self, singular: str, plural: str, n: int, **params) -> str:
        """Translate a message whose wording depends on the count `n` (always a placeholder)."""
        text = self._catalog.ngettext(singular, plural, n)
        source = singular if n == 1 else plural
        # A form may spell the count out ("one question"), so it need not show %(n)s.
        return _fill(text, source, dict(params, n=n), placeholders(singular) | placeholders(plural), optional={"n"})


def placeholders(text: str) -> set[str]:
    """The names of the %(name)s placeholders in `text`."""
    return set(_PLACEHOLDER.findall(text))


def _fill(text: str, source: str, params: dict, expected: set, optional: frozenset | set = frozenset()) -> str:
    """`text` filled in; the English `source` if the translation's placeholders are broken."""
    found = placeholders(text)
    if found <= expected and expected - optional <= found:
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            pass
    # A broken catalog must never reach a respondent or crash a conversation.
    return source % params


@lru_cache(maxsize=None)
def messages(language: str) -> Messages:
    """The cached Messages for `language`."""
    return Messages(language)


def N_(message: str) -> str:
    """Mark a message for extraction where it is translated later (Babel's keyword)."""
    return message
