"""Answer parsers: what people really type on a phone."""
import pytest

from flows import answers
from flows.model import DONT_KNOW
from flows.model import Choice
from flows.model import Question
from flows.model import QuestionType
from flows.model import Scale

SCALE = Question("q", QuestionType.SCALE, {"en": "Q"}, scale=Scale(1, 6, dont_know=True))
SCALE_NO_DK = Question("q", QuestionType.SCALE, {"en": "Q"}, scale=Scale(1, 6))
SCALE_FROM_0 = Question("q", QuestionType.SCALE, {"en": "Q"}, scale=Scale(0, 10))
CHOICES = (
    Choice("u25", {"nb": "Under 25", "en": "Under 25"}),
    Choice("mid", {"nb": "25-49 år", "en": "25-49"}),
    Choice("old", {"nb": "Åtti eller eldre", "en": "Eighty or older"}),
    Choice("other", {"nb": "Annet", "en": "Other"}),
)
CHOICE = Question("c", QuestionType.CHOICE, {"en": "C"}, choices=CHOICES, dont_know=True)
MULTI = Question("m", QuestionType.MULTI, {"en": "M"}, choices=CHOICES)
YESNO = Question("y", QuestionType.YESNO, {"en": "Y"})
YESNO_DK = Question("y", QuestionType.YESNO, {"en": "Y"}, dont_know=True)
NUMBER = Question("n", QuestionType.NUMBER, {"en": "N"}, min=0, max=120)
TEXT = Question("t", QuestionType.TEXT, {"en": "T"})
OPTIONAL_TEXT = Question("t", QuestionType.TEXT, {"en": "T"}, optional=True, comment=True)
OPTIONAL_NUMBER = Question("n", QuestionType.NUMBER, {"en": "N"}, optional=True)


@pytest.mark.parametrize(
    "question, text, language, expected",
    [
        # Scale: digits as people type them.
        (SCALE, "5", "nb", 5),
        (SCALE, " 5", "nb", 5),
        (SCALE, "5 ", "nb", 5),
        (SCALE, "5.", "nb", 5),
        (SCALE, "5!", "nb", 5),
        (SCALE, "(5)", "nb", 5),
        (SCALE, "٥", "nb", 5),  # Arabic-Indic
        (SCALE, "۵", "nb", 5),  # Persian
        (SCALE, "５", "nb", 5),  # fullwidth
        (SCALE, "5️⃣", "nb", 5),  # keycap emoji
        (SCALE, "1", "en", 1),
        (SCALE, "6", "en", 6),
        (SCALE, "vet ikke", "nb", DONT_KNOW),
        (SCALE, "Vet ikke.", "nb", DONT_KNOW),
        (SCALE, "veit ikkje", "nn", DONT_KNOW),
        (SCALE, "ved ikke", "da", DONT_KNOW),
        (SCALE, "vet inte", "sv", DONT_KNOW),
        (SCALE, "don't know", "en", DONT_KNOW),
        (SCALE, "don’t know", "en", DONT_KNOW),  # curly apostrophe from a phone keyboard
        (SCALE, "dont know", "en", DONT_KNOW),
        (SCALE, "DK", "en", DONT_KNOW),
        (SCALE, "dont know", "nb", DONT_KNOW),  # English works in every language
        (SCALE_FROM_0, "0", "en", 0),  # 0 is a number, valid when the scale starts at 0
        # Choice: by number or by label.
        (CHOICE, "2", "nb", "mid"),
        (CHOICE, "2.", "nb", "mid"),
        (CHOICE, "٢", "nb", "mid"),
        (CHOICE, "under 25", "nb", "u25"),
        (CHOICE, "UNDER 25", "en", "u25"),
        (CHOICE, "atti eller eldre", "nb", "old"),  # accents do not matter
        (CHOICE, "åtti", "nb", "old"),  # unique prefix
        (CHOICE, "an", "nb", "other"),
        (CHOICE, "vet ikke", "nb", DONT_KNOW),
        # Multi: numbers in any common form, stored in survey order.
        (MULTI, "1,3", "nb", ["u25", "old"]),
        (MULTI, "1, 3", "nb", ["u25", "old"]),
        (MULTI, "1 3", "nb", ["u25", "old"]),
        (MULTI, "1 og 3", "nb", ["u25", "old"]),
        (MULTI, "1 and 3", "en", ["u25", "old"]),
        (MULTI, "3 och 1", "sv", ["u25", "old"]),
        (MULTI, "3,1,3", "nb", ["u25", "old"]),
        (MULTI, "4", "nb", ["other"]),
        (MULTI, "Annet", "nb", ["other"]),
        (MULTI, "١، ٣", "nb", ["u25", "old"]),  # Arabic digits and Arabic comma
        # Yes/no: forgiving of case and punctuation, precise about words.
        (YESNO, "ja", "nb", "yes"),
        (YESNO, "Ja.", "nb", "yes"),
        (YESNO, "JA!", "nb", "yes"),
        (YESNO, "j", "nb", "yes"),
        (YESNO, "nei", "nb", "no"),
        (YESNO, "Nei takk", "nb", "no"),
        (YESNO, "n", "nb", "no"),
        (YESNO, "yes", "nb", "yes"),
        (YESNO, "Yes please", "en", "yes"),
        (YESNO, "y", "en", "yes"),
        (YESNO, "no", "en", "no"),
        (YESNO, "nej", "da", "no"),
        (YESNO_DK, "vet ikke", "nb", DONT_KNOW),
        # Number: decimal comma, any script.
        (NUMBER, "3", "nb", 3),
        (NUMBER, "3,5", "nb", 3.5),
        (NUMBER, "3.5", "en", 3.5),
        (NUMBER, "٣٫٥", "nb", 3.5),
        (NUMBER, "0", "nb", 0),
        (NUMBER, "120.", "nb", 120),
        # Text: as typed, trimmed.
        (TEXT, "  Fint program!  ", "nb", "Fint program!"),
        (TEXT, "stop by more often", "en", "stop by more often"),
        (OPTIONAL_TEXT, "-", "nb", None),
        (OPTIONAL_TEXT, "hopp over", "nb", None),
        (OPTIONAL_TEXT, "Skip", "en", None),
        (OPTIONAL_NUMBER, "-", "nb", None),
    ],
)
def test_accepts(question, text, language, expected):
    parsed = answers.parse(question, text, language)
    assert parsed.ok, parsed
    assert parsed.value == expected


@pytest.mark.parametrize(
    "question, text, hint",
    [
        (SCALE, "7", "scale"),
        (SCALE, "0", "scale"),  # not don't-know: see the module docstring
        (SCALE, "?", "scale"),  # "?" is help, decided in the engine before parsing
        (SCALE, "5.5", "scale"),
        (SCALE, "5 stars", "scale"),
        (SCALE, "", "scale"),
        (SCALE, "veldig fornøyd", "scale"),
        (SCALE_NO_DK, "vet ikke", "scale"),
        (CHOICE, "5", "choice"),
        (CHOICE, "0", "choice"),
        (CHOICE, "u", "choice"),  # one letter is too short a prefix
        (CHOICE, "e", "choice"),
        (CHOICE, "xyz", "choice"),
        (MULTI, "1,9", "multi"),
        (MULTI, "", "multi"),
        (MULTI, "og", "multi"),
        (YESNO, "kanskje", "yesno"),
        (YESNO, "ja nei", "yesno"),
        (YESNO, "yes I think so but", "yesno"),
        (YESNO, "vet ikke", "yesno"),  # this question has no don't know
        (NUMBER, "121", "number"),
        (NUMBER, "-1", "number"),
        (NUMBER, "tre", "number"),
        (NUMBER, "1,2,3", "number"),
        (TEXT, "   ", "text"),
    ],
)
def test_refuses_with_hint(question, text, hint):
    parsed = answers.parse(question, text, "nb")
    assert not parsed.ok
    assert parsed.hint == hint


def test_dash_is_text_when_the_question_is_required():
    # Only optional questions can be skipped; for a required one "-" is the answer itself.
    assert answers.parse(TEXT, "-", "nb").value == "-"


def test_long_text_is_cut_not_refused():
    parsed = answers.parse(TEXT, "x" * 5000, "nb")
    assert parsed.ok and len(parsed.value) == answers.MAX_TEXT


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop.", "STOPP!", " stopp ", "AVMELD", "afmeld", "avslutt", "UNSUBSCRIBE", "cancel", "END", "quit", "Avsluta"])
def test_stop_words(text):
    assert answers.is_stop(text)


@pytest.mark.parametrize("text", ["stop it please", "I can't stop smiling", "5", "", "stoppe", "endelig"])
def test_stop_only_as_whole_message(text):
    assert not answers.is_stop(text)


@pytest.mark.parametrize("text", ["HELP", "help", "Hjelp!", "HJÆLP", "hjälp", "?", "??", " ? ", "？"])
def test_help_words(text):
    assert answers.is_help(text)


@pytest.mark.parametrize("text", ["help me with my housing please", "5", "vet ikke", "what?"])
def test_not_help(text):
    assert not answers.is_help(text)
