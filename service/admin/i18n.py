"""The admin view's language (nb, da or en): the user's choice, else the browser's; gettext for Jinja."""
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.dates import format_datetime
from babel.dates import format_skeleton
from babel.dates import format_time
from babel.numbers import format_decimal
from babel.numbers import format_percent
from flask import g
from flask import request
from flask import session
from flask_login import current_user

from flows.i18n import translations
from flows.languages import native_name

LANGUAGES = ("nb", "da", "en")
# Each language named in itself, so a reader finds their own.
NAMES = {"nb": "Norsk bokmål", "da": "Dansk", "en": "English"}
DEFAULT = "nb"
# Browsers send "no" or "nn" for Norwegian as often as "nb".
ALIASES = {"no": "nb", "nn": "nb"}


def current_language() -> str:
    """The language of this request, chosen once."""
    if "admin_language" not in g:
        g.admin_language = _choose()
    return g.admin_language


def _choose() -> str:
    user_choice = getattr(current_user, "language", None) if current_user else None
    for candidate in (user_choice, session.get("language")):
        if candidate in LANGUAGES:
            return candidate
    offered = [*LANGUAGES, *ALIASES]
    best = request.accept_languages.best_match(offered)
    if best:
        return ALIASES.get(best, best)
    return DEFAULT


def gettext(message: str, **params) -> str:
    """`message` in the request's language, its %(name)s placeholders filled."""
    text = translations(current_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    """A count-dependent message; %(n)s is always available."""
    return translations(current_language()).ngettext(singular, plural, n) % dict(params, n=n)


_ = gettext


def _jinja_gettext(message):
    # Jinja's newstyle gettext formats the result itself, so only translate here.
    return translations(current_language()).gettext(message)


def _jinja_ngettext(singular, plural, n):
    return translations(current_language()).ngettext(singular, plural, n)


def percent(value) -> str:
    return format_percent(value or 0, format="#,##0.#%", locale=current_language())


def number(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current_language())


def when(moment: datetime | None, zone: str | None = None) -> str:
    """A moment in the organisation's time zone, written the reader's way."""
    if moment is None:
        return "–"
    return format_datetime(moment, "short", tzinfo=ZoneInfo(zone or "Europe/Oslo"), locale=current_language())


def day(moment, zone: str | None = None) -> str:
    if moment is None:
        return "–"
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZoneInfo(zone or "Europe/Oslo")).date()
    return format_date(moment, "medium", locale=current_language())


def now_label() -> str:
    """The time now, in the user's organisation's time zone."""
    zone = getattr(current_user, "timezone", None) or "Europe/Oslo"
    return format_time(datetime.now(ZoneInfo(zone)), "short", locale=current_language())


def short_day(moment) -> str:
    """Day and month only ("5. okt.", "Oct 5"), for chart axes."""
    return format_skeleton("MMMd", moment, locale=current_language())


def zip_names(values, labels) -> list[tuple]:
    """(value, label) pairs for select and checkbox options; a label may be an object with a name."""
    return [(value, getattr(label, "name", label)) for value, label in zip(values, labels)]


def language_name(code: str) -> str:
    """A survey language by its own name, with the code: "norsk bokmål (nb)"."""
    return f"{native_name(code)} ({code})"


def init_app(app):
    """Jinja's i18n extension with this module's gettext, and formatting filters."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(_jinja_gettext, _jinja_ngettext, newstyle=True)
    app.jinja_env.filters.update(
        percent=percent, number=number, when=when, day=day, short_day=short_day, zip_names=zip_names,
        language_name=language_name,
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        now_label=now_label,
        language_names=NAMES,
    )
