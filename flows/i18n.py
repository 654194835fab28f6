"""The engine's own words: gettext catalogs from locales/, English when missing."""
import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

# A Nynorsk reader understands Bokmål far better than English.
FALLBACKS = {"nn": "nb"}


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


class Messages:
    """The engine's phrases in one language; method names match pybabel's default keywords."""

    def __init__(self, language: str):
        self.language = language
        self._catalog = translations(language)

    def gettext(self, message: str, **params) -> str:
        """Translate `message` and fill its %(name)s placeholders."""
        text = self._catalog.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params) -> str:
        """Translate a message whose wording depends on the count `n` (always a placeholder)."""
        return self._catalog.ngettext(singular, plural, n) % dict(params, n=n)


@lru_cache(maxsize=None)
def messages(language: str) -> Messages:
    """The cached Messages for `language`."""
    return Messages(language)
