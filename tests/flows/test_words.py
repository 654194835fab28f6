"""Answers in every shipped language: digits in any script, yes/no, don't know, skip, stop, help, language."""
import pytest

from flows import answers
from flows import words
from flows.languages import SHIPPED
from flows.model import DONT_KNOW
from flows.model import Question
from flows.model import QuestionType
from flows.model import Scale

SCALE = Question("q", QuestionType.SCALE, {"en": "Q"}, scale=Scale(1, 6, dont_know=True))
YESNO = Question("y", QuestionType.YESNO, {"en": "Y"}, dont_know=True)
OPTIONAL = Question("t", QuestionType.TEXT, {"en": "T"}, optional=True)

# language: (yes, no, don't know, skip, stop, help, language keyword), as people type them.
TYPED = {
    "nb": ("Ja", "nei", "vet ikke", "hopp over", "STOPP", "hjelp", "SPRÅK"),
    "nn": ("ja", "Nei", "veit ikkje", "hopp", "avmeld", "hjelp", "språk"),
    "da": ("ja", "nej", "ved ikke", "spring over", "AFMELD", "hjælp", "SPROG"),
    "sv": ("ja", "nej", "vet inte", "hoppa över", "stopp", "hjälp", "Språk"),
    "en": ("yes", "no", "don't know", "skip", "STOP", "help", "LANGUAGE"),
    "ar": ("نعم", "لا", "لا أعرف", "تخطي", "توقف", "مساعدة", "اللغة"),
    "so": ("haa", "maya", "ma garanayo", "ka bood", "JOOJI", "caawimaad", "LUQADDA"),
    "ti": ("እወ", "ኣይፋል", "ኣይፈልጥን", "ሕለፍ", "ደው በል", "ሓገዝ", "ቋንቋ"),
    "fa": ("بله", "نه", "نمی‌دانم", "رد", "لغو", "کمک", "زبان"),
    "fa_AF": ("بلی", "نه", "نمی‌فامم", "تیر", "توقف", "کمک", "زبان"),
    "uk": ("Так", "ні", "не знаю", "пропустити", "СТОП", "допомога", "МОВА"),
    "pl": ("tak", "nie", "nie wiem", "pomiń", "koniec", "pomoc", "JĘZYK"),
}


def test_every_shipped_language_has_every_kind_of_word():
    assert set(TYPED) == set(SHIPPED)
    for table in (words.YES, words.NO, words.DONT_KNOW, words.SKIP, words.STOP, words.HELP, words.LANGUAGE):
        assert set(SHIPPED) <= set(table)


@pytest.mark.parametrize("language", SHIPPED)
def test_words_per_language(language):
    yes, no, dont_know, skip, stop, help_, keyword = TYPED[language]
    assert answers.parse(YESNO, yes, language).value == "yes"
    assert answers.parse(YESNO, no, language).value == "no"
    assert answers.parse(SCALE, dont_know, language).value == DONT_KNOW
    assert answers.parse(OPTIONAL, skip, language).ok and answers.parse(OPTIONAL, skip, language).value is None
    assert answers.is_stop(stop)
    assert answers.is_help(help_)
    assert answers.is_language_keyword(keyword)


@pytest.mark.parametrize(
    "typed, language, expected",
    [
        ("نعم", "nb", "yes"),  # any language's words work whatever the conversation's language
        ("yes", "ar", "yes"),
        ("بلی", "fa", "yes"),  # Dari spelling in a Persian conversation
        ("نمیدانم", "fa", DONT_KNOW),  # no zero-width non-joiner
        ("نمي دانم", "fa_AF", DONT_KNOW),  # Arabic yeh on a Persian word
        ("أيوه", "ar", "yes"),
        ("ايوه", "ar", "yes"),  # without hamza
        ("na3am", "ar", "yes"),  # Arabizi
        ("ewe", "ti", "yes"),  # Latin transliteration
        ("👍", "uk", "yes"),
        ("👍🏽", "so", "yes"),  # with a skin tone
        ("👎", "pl", "no"),
        ("tak", "pl", "yes"),
        ("tak", "uk", "yes"),
    ],
)
def test_spellings_people_use(typed, language, expected):
    assert answers.parse(YESNO, typed, language).value == expected


def test_own_language_decides_a_word_two_languages_read_differently():
    # "na" is no in Persian transliteration; nothing may make it yes there.
    assert answers.parse(YESNO, "na", "fa").value == "no"


@pytest.mark.parametrize(
    "typed, value",
    [("٥", 5), ("۵", 5), ("５", 5), ("5️⃣", 5), ("፭", 5), ("፩", 1), ("፮", 6), ("४", 4), ("৩", 3), ("(٣)", 3)],
)
def test_digits_in_every_script(typed, value):
    assert answers.parse(SCALE, typed, "ar").value == value


@pytest.mark.parametrize("typed", ["/language", "/language@SvarBot", "Language!", " språk ", "/språk", "Мова", "JĘZYK", "ቋንቋ"])
def test_language_keyword_forms(typed):
    assert answers.is_language_keyword(typed)


@pytest.mark.parametrize("typed", ["language please now", "5", "norsk", "stop"])
def test_not_language_keywords(typed):
    assert not answers.is_language_keyword(typed)


@pytest.mark.parametrize("typed", ["👍", "😀😀", "🙏 ❤️", "⭐⭐⭐"])
def test_emoji_only(typed):
    assert answers.emoji_only(typed)
    assert not answers.parse(SCALE, typed, "ar").ok


@pytest.mark.parametrize("typed", ["5 👍", "ok", "", "   ", "٥"])
def test_not_emoji_only(typed):
    assert not answers.emoji_only(typed)


def test_mixed_scripts_are_no_answer_but_no_crash():
    assert answers.parse(SCALE, "٥ stars", "ar").hint == "scale"
    assert answers.parse(YESNO, "نعم yes", "ar").hint == "yesno"


def test_stop_words_never_collide_with_answers():
    stops = answers.vocabulary("STOP")
    for table in ("YES", "NO", "DONT_KNOW", "SKIP", "HELP", "LANGUAGE"):
        assert not stops & answers.vocabulary(table), table


def test_no_word_is_yes_in_one_language_and_no_in_another():
    assert not answers.vocabulary("YES") & answers.vocabulary("NO")
