"""Reminder texts: how to go on, how to stop, and the deadline written the respondent's way."""
from datetime import date

import pytest

from flows.bidi import strip_marks
from flows.languages import SHIPPED
from flows.model import Outbound
from flows.model import Sprint
from flows.model import State
from flows.reminders import LAST_CHANCE
from flows.reminders import NUDGE
from flows.reminders import REMINDER
from flows.reminders import nudge_footer
from flows.reminders import reminder_text
from flows.reminders import with_footer

DEADLINE = date(2026, 12, 15)
CODE = "K7QM-3XWD"


def text(kind=REMINDER, language="en", deadline=DEADLINE, code=CODE):
    return reminder_text(kind, language, organisation="Nordby kommune", title="Introduction programme", deadline=deadline, code=code)


def test_a_reminder_says_who_asks_by_when_how_to_start_with_a_reply_or_the_code_and_how_to_stop():
    assert text() == (
        "Reminder: Nordby kommune would like your answers to the survey Introduction programme by December 15. "
        "Reply to this message to start, or send the code K7QM-3XWD. Your answers are anonymous. Reply STOP to opt out."
    )


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("kind, deadline", [(REMINDER, DEADLINE), (REMINDER, None), (LAST_CHANCE, DEADLINE)])
def test_every_shipped_language_repeats_the_code_once_in_its_own_words(language, kind, deadline):
    body = text(kind, language, deadline)
    assert strip_marks(body).count(CODE) == 1
    if language != "en":
        assert not strip_marks(body).startswith(("Reminder", "Last chance")), "translated, not English"


def test_the_last_chance_names_the_closing_day():
    assert text(LAST_CHANCE).startswith("Last chance: the survey Introduction programme from Nordby kommune closes on December 15.")
    assert "Reply STOP to opt out." in text(LAST_CHANCE)


def test_without_a_deadline_no_date_is_invented():
    assert " by " not in text(deadline=None) and "STOP" in text(deadline=None)
    assert text(LAST_CHANCE, deadline=None) == text(REMINDER, deadline=None)


@pytest.mark.parametrize("language, day", [("nb", "15. desember"), ("da", "15. december"), ("uk", "15 грудня"), ("en", "December 15")])
def test_the_deadline_is_a_local_date(language, day):
    assert day in nudge_footer(REMINDER, language, DEADLINE)


def test_texts_an_sms_can_carry_in_gsm7_for_latin_languages():
    for kind in (REMINDER, LAST_CHANCE):
        body = text(kind)
        assert all(ord(character) < 128 for character in body), body
        assert len(body) <= 306  # two SMS parts


def test_the_footer_goes_after_the_engines_question():
    sprint = Sprint(State(language="en"), (Outbound("Reminder: you have 4 questions left.\nQ?", "q1"),))
    footed = with_footer(sprint, nudge_footer(NUDGE, "en", DEADLINE))
    [message] = footed.outbound
    assert message.text == "Reminder: you have 4 questions left.\nQ?\nPlease answer by December 15. Send STOP to opt out."
    assert message.question_id == "q1"
    assert with_footer(Sprint(State(language="en")), "x").outbound == ()
