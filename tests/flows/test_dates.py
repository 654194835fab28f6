"""Dates and numbers as each language writes them (CLDR via Babel)."""
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest

from flows.dates import date_text
from flows.dates import deadline_text
from flows.dates import duration_text
from flows.dates import number_text

DAY = date(2026, 12, 15)


@pytest.mark.parametrize(
    "language, expected",
    [("nb", "15. desember"), ("nn", "15. desember"), ("da", "15. december"), ("sv", "15 december"), ("en", "December 15"),
     ("ar", "15 ديسمبر"), ("uk", "15 грудня"), ("pl", "15 grudnia"), ("ti", "15 ታሕሳስ"), ("fa", "15 دسامبر"), ("xx", "December 15")],
)
def test_deadline_text(language, expected):
    assert deadline_text(DAY, language) == expected


def test_a_datetime_counts_by_its_own_date():
    assert deadline_text(datetime(2026, 12, 15, 23, 30, tzinfo=timezone.utc), "nb") == "15. desember"


def test_full_dates_and_numbers_use_plain_spaces():
    assert date_text(DAY, "nb") == "15. desember 2026"
    assert date_text(DAY, "uk") == "15 грудня 2026 р."
    assert number_text(1234.5, "nb") == "1 234,5"
    assert number_text(1234.5, "da") == "1.234,5"
    assert number_text(1234.5, "en") == "1,234.5"


@pytest.mark.parametrize("seconds, language, expected", [
    (3600, "nb", "1 time"), (7200, "da", "2 timer"), (5400, "en", "90 minutes"), (900, "nb", "15 minutter"),
    (90, "en", "90 seconds"), (86400, "en", "24 hours"), (3600, "uk", "1 година"), (0, "en", "1 second"),
])
def test_duration_text_is_exact_not_rounded(seconds, language, expected):
    # Babel alone would say "2 hours" for 5400 s: a respondent told that would wait half an hour too long.
    assert duration_text(timedelta(seconds=seconds), language) == expected
