"""The short language menu: each language in its own name, picked by number or by name."""
from functools import lru_cache

from babel import Locale
from babel import UnknownLocaleError

from flows import answers
from flows import words
from flows.i18n import messages
from flows.languages import english_name
from flows.languages import is_rtl
from flows.languages import native_name
from flows.model import Option
from flows.model import Outbound
from flows.model import State
from flows.model import Survey

FSI = "\u2068"
PDI = "\u2069"
LRM = "\u200e"

# Names people type that CLDR does not give, folded: "norsk" alone means Bokmål on a Norwegian phone.
_NICKNAMES = {"norsk": "nb", "bokmal": "nb", "nynorsk": "nn", "farsi": "fa", "dari": "fa_AF", "tigrinja": "ti", "somalisk": "so"}
_MIN_PREFIX = 3


def offered(survey: Survey, state: State) -> tuple[str, ...]:
    """The languages this respondent may pick, in the survey's order."""
    chosen = [language for language in survey.languages if not state.offered or language in state.offered]
    return tuple(chosen) or survey.languages


def keyword(language: str) -> str:
    """The word that opens the menu in `language`, as a prompt shows it: SPRÅK, LANGUAGE, اللغة."""
    return words.LANGUAGE.get(language, words.LANGUAGE["en"])[0].upper()


def menu(languages: tuple[str, ...], language: str, *, before: str = "") -> Outbound:
    """The menu, introduced in `language` (and in English too, for whoever cannot read that)."""
    m = messages(language)
    lines = [before] if before else []
    header = m.gettext("Choose your language. Reply with a number:")
    english = messages("en").gettext("Choose your language. Reply with a number:")
    lines.append(header if header == english or "en" not in languages else f"{header}\n{english}")
    for number, code in enumerate(languages, 1):
        name = native_name(code)
        # An Arabic name in a left-to-right menu must not turn its line around (and the reverse).
        lead = "" if is_rtl(language) else LRM
        lines.append(f"{lead}{number}) {FSI}{name}{PDI}" if is_rtl(code) != is_rtl(language) else f"{number}) {name}")
    options = tuple(Option(reply=str(number), label=native_name(code)) for number, code in enumerate(languages, 1))
    return Outbound(text="\n".join(lines), options=options)


def choice(text: str, languages: tuple[str, ...]) -> str | None:
    """The language `text` picks: its number, its code, or a name of it; None if unclear."""
    number = answers.parse_integer(text)
    if number is not None:
        return languages[number - 1] if 1 <= number <= len(languages) else None
    typed = answers.plain(text)
    if not typed:
        return None
    names = {code: _names(code, languages) for code in languages}
    exact = [code for code, known in names.items() if typed in known]
    if exact:
        return exact[0]
    nickname = _NICKNAMES.get(typed)
    if nickname in languages:
        return nickname
    if len(typed) < _MIN_PREFIX:
        return None
    # "arab", "ukrain", "bokmål": the start of a name or one word of it.
    partial = {code for code, known in names.items() for name in known if name.startswith(typed) or typed in name.split()}
    return partial.pop() if len(partial) == 1 else None


@lru_cache(maxsize=None)
def _names(code: str, languages: tuple[str, ...]) -> frozenset:
    """Everything `code` is called: itself, its own name, its English name, its name in each offered language."""
    found = {code.lower(), code.replace("_", "-").lower(), native_name(code), english_name(code)}
    for other in languages:
        try:
            name = Locale.parse(other).languages.get(code)
        except (UnknownLocaleError, ValueError):
            name = None
        if name:
            found.add(name)
    return frozenset(answers.plain(name) for name in found if name)
