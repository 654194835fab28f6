"""Dates and numbers written the way each language writes them, from Babel's CLDR data."""
from datetime import date
from datetime import datetime
from datetime import timedelta

from babel import Locale
from babel import UnknownLocaleError
from babel.dates import format_date
from babel.dates import format_skeleton
from babel.dates import format_timedelta
from babel.numbers import format_decimal

FALLBACK = "en"


def locale_of(language: str) -> Locale:
    """The CLDR locale for a Svar language code; English for codes CLDR does not know."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK)


def deadline_text(day: date | datetime, language: str) -> str:
    """Day and month, as in a reminder's "answer by ...": nb "15. desember", en "December 15"."""
    if isinstance(day, datetime):
        day = day.date()  # the caller converts to the campaign's time zone first
    return _plain_spaces(format_skeleton("MMMMd", day, locale=locale_of(language)))


def date_text(day: date | datetime, language: str) -> str:
    """A full date with the year: nb "15. desember 2026", uk "15 грудня 2026 р."."""
    if isinstance(day, datetime):
        day = day.date()
    return _plain_spaces(format_date(day, "long", locale=locale_of(language)))


def number_text(value: int | float, language: str) -> str:
    """A number with the language's separators: nb "1 234,5", en "1,234.5"."""
    return _plain_spaces(format_decimal(value, locale=locale_of(language)))


# The units a waiting time is told in, largest first, in seconds.
_UNITS = (("hour", 3600), ("minute", 60), ("second", 1))


def duration_text(delta: timedelta, language: str) -> str:
    """A waiting time in words, exact: nb "1 time", en "90 minutes" (not Babel's rounded "2 hours")."""
    seconds = max(1, int(delta.total_seconds()))
    unit, size = next((unit, size) for unit, size in _UNITS if seconds % size == 0)
    # Babel picks the largest unit whose count reaches the threshold: with the count itself as the
    # threshold, that is the unit chosen here, so 5400 s reads "90 minutes".
    text = format_timedelta(timedelta(seconds=seconds), threshold=seconds / size, format="long", locale=locale_of(language))
    return _plain_spaces(text)


def _plain_spaces(text: str) -> str:
    # CLDR's no-break spaces ("1 234", "2026 р.") would force UCS-2 on an SMS that is otherwise GSM-7.
    return text.replace("\u00a0", " ").replace("\u202f", " ")
