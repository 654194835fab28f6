"""Catalogs: complete, GSM-7 friendly, and agreeing with the parsers' word lists."""
import gettext

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import pytest
from babel.messages.pofile import read_po

from flows import answers
from flows import i18n
from flows.definitions import bundled_survey
from flows.model import QuestionType

CATALOGS = sorted(i18n.LOCALES.glob("*/LC_MESSAGES/messages.po"))
# Messages of the engine: those whose only locations are in flows/.
NB = read_po((i18n.LOCALES / "nb/LC_MESSAGES/messages.po").open("rb"), locale="nb")


def engine_messages(catalog):
    return [m for m in catalog if m.id and any(path.startswith("flows/") for path, _ in m.locations)]


def gsm7(text: str) -> bool:
    try:
        text.encode("gsm03.38")
    except UnicodeError:
        return False
    return True


def test_nb_translates_every_engine_message():
    missing = [m.id for m in engine_messages(NB) if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    assert not missing
    assert len(engine_messages(NB)) >= 40


@pytest.mark.parametrize("message", engine_messages(NB), ids=lambda m: str(m.id)[:40])
def test_nb_and_en_engine_texts_stay_gsm7(message):
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    for text in ids + strings:
        assert gsm7(text), text


def test_bundled_survey_nb_and_en_texts_stay_gsm7():
    survey = bundled_survey("introduction-programme")
    texts = [survey.title, survey.intro, survey.outro]
    for question in survey.questions:
        texts.append(question.text)
        texts.extend(c.label for c in question.choices)
        if question.scale:
            texts.extend([question.scale.low, question.scale.high])
    for text in texts:
        for language in ("nb", "en"):
            assert gsm7(text[language]), text[language]


@pytest.mark.parametrize("language", ["en", "nb", "nn"])
def test_words_the_prompts_offer_are_words_the_parsers_accept(language):
    m = i18n.messages(language)
    assert answers.is_dont_know(m.gettext("don't know"), language)
    yes = answers.parse(_yesno(), m.gettext("yes"), language)
    no = answers.parse(_yesno(), m.gettext("no"), language)
    assert (yes.value, no.value) == ("yes", "no")


def _yesno():
    survey = bundled_survey("introduction-programme")
    return next(q for q in survey.questions if q.type == QuestionType.YESNO)


def test_unknown_language_falls_back_to_english():
    assert isinstance(i18n.translations("xx"), gettext.NullTranslations)
    assert i18n.messages("xx").gettext("Skip") == "Skip"


def test_nynorsk_falls_back_to_bokmal_until_it_has_a_catalog():
    assert i18n.messages("nn").gettext("Skip") == "Hopp over"


def test_placeholders_are_named_python_format():
    for message in engine_messages(NB):
        text = message.id if isinstance(message.id, str) else message.id[0]
        if "%" in text:
            assert "python-format" in message.flags, text


def test_plural_forms_follow_the_count():
    m = i18n.messages("en")
    assert "1 question left" in m.ngettext("Reminder: you have %(n)s question left in %(title)s.", "Reminder: you have %(n)s questions left in %(title)s.", 1, title="T")
    assert "2 questions left" in m.ngettext("Reminder: you have %(n)s question left in %(title)s.", "Reminder: you have %(n)s questions left in %(title)s.", 2, title="T")


def test_po_is_read_when_no_mo_is_compiled(tmp_path, monkeypatch):
    folder = tmp_path / "nb" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_bytes((i18n.LOCALES / "nb/LC_MESSAGES/messages.po").read_bytes())
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    assert i18n._load("nb").gettext("Skip") == "Hopp over"


def test_catalog_covers_every_message_in_the_engine_code():
    from babel.messages.extract import extract_from_dir

    flows_dir = i18n.LOCALES.parent / "flows"
    in_code = {m[2] if isinstance(m[2], str) else m[2][0] for m in extract_from_dir(str(flows_dir), method_map=[("**.py", "python")])}
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in NB if m.id}
    assert in_code - in_catalog == set(), "run `svar translate update` and translate the new messages"


# --- every shipped language ---------------------------------------------------

from flows.languages import GSM7_FRIENDLY  # noqa: E402
from flows.languages import SHIPPED  # noqa: E402

REMINDER = ("Reminder: you have %(n)s question left in %(title)s.", "Reminder: you have %(n)s questions left in %(title)s.")


def _catalog(language):
    return read_po((i18n.LOCALES / language / "LC_MESSAGES/messages.po").open("rb"), locale=language)


@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_language_translates_every_engine_message(language):
    catalog = _catalog(language)
    missing = [m.id for m in engine_messages(catalog) if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    assert not missing


@pytest.mark.parametrize("language", sorted(GSM7_FRIENDLY - {"pl", "so"}))
def test_nordic_and_english_engine_texts_stay_gsm7(language):
    for message in engine_messages(_catalog(language)):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert gsm7(text), (language, text)


@pytest.mark.parametrize("language", ["nb", "nn", "da", "sv", "en"])
def test_bundled_survey_texts_stay_gsm7(language):
    survey = bundled_survey("introduction-programme")
    texts = [survey.title, survey.intro, survey.outro]
    for question in survey.questions:
        texts.append(question.text)
        texts.extend(c.label for c in question.choices)
        if question.scale:
            texts.extend([question.scale.low, question.scale.high])
    for text in texts:
        assert gsm7(text[language]), text[language]


@pytest.mark.parametrize("language", SHIPPED)
def test_every_languages_prompt_words_are_words_its_parser_accepts(language):
    m = i18n.messages(language)
    assert answers.is_dont_know(m.gettext("don't know"), language)
    yes = answers.parse(_yesno(), m.gettext("yes"), language)
    no = answers.parse(_yesno(), m.gettext("no"), language)
    assert (yes.value, no.value) == ("yes", "no")


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, "لم يبق لك أي سؤال"),  # zero
        (1, "بقي لك سؤال واحد"),  # one
        (2, "بقي لك سؤالان"),  # two
        (3, "بقيت لك 3 أسئلة"),  # few: 3-10
        (10, "بقيت لك 10 أسئلة"),
        (11, "بقي لك 11 سؤالا"),  # many: 11-99 (Babel's fifth form, index 5)
        (99, "بقي لك 99 سؤالا"),
        (100, "بقي لك 100 سؤال"),  # other: 100-102 (index 4)
        (102, "بقي لك 102 سؤال"),
        (103, "بقيت لك 103 أسئلة"),  # 103 % 100 = 3: few again
        (111, "بقي لك 111 سؤالا"),
    ],
)
def test_arabic_has_six_plural_forms_in_babels_order(n, expected):
    assert expected in i18n.messages("ar").ngettext(*REMINDER, n, title="T")


@pytest.mark.parametrize(
    "language, n, word",
    [("uk", 1, "запитання."), ("uk", 3, "запитання."), ("uk", 5, "запитань."), ("uk", 11, "запитань."), ("uk", 21, "запитання."),
     ("pl", 1, "pytanie."), ("pl", 3, "pytania."), ("pl", 5, "pytań."), ("pl", 22, "pytania."), ("pl", 12, "pytań."),
     ("sv", 1, "fråga kvar"), ("sv", 2, "frågor kvar"), ("fa", 7, "سؤال")],
)
def test_slavic_and_other_plural_forms(language, n, word):
    assert word in i18n.messages(language).ngettext(*REMINDER, n, title="T")


def _broken_catalog(tmp_path, monkeypatch, translation: str):
    folder = tmp_path / "nb" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, python-format\nmsgid "Reply %(min)s-%(max)s."\n' f'msgstr "{translation}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.translations.cache_clear()
    i18n.messages.cache_clear()


@pytest.mark.parametrize(
    "translation, expected",
    [
        ("Svar %(min)s-%(max)s.", "Svar 1-6."),
        ("Svar %(min)d-%(max)s.", "Svar 1-6."),  # another conversion is fine while it formats
        ("Svar %(min)s-%(maks)s.", "Reply 1-6."),  # a misspelt name would raise KeyError
        ("Svar %(min)s.", "Reply 1-6."),  # a dropped placeholder would lose information silently
        ("Svar %(min)s-%(max)s %.", "Reply 1-6."),  # a stray percent sign would raise ValueError
        ("Svar %(min)s-%(max)s %(code)s.", "Reply 1-6."),
    ],
)
def test_a_broken_translation_falls_back_to_english_rather_than_crash(tmp_path, monkeypatch, translation, expected):
    _broken_catalog(tmp_path, monkeypatch, translation)
    try:
        assert i18n.messages("nb").gettext("Reply %(min)s-%(max)s.", min=1, max="6") == expected
    finally:
        i18n.translations.cache_clear()
        i18n.messages.cache_clear()
