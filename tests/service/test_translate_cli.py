"""`svar translate`: the shipped catalogs pass `check`; broken ones fail it and never reach respondents."""
import shutil

import pytest
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po
from click.testing import CliRunner

from flows import i18n
from service.cli.catalog_check import check
from service.cli.catalogs import extract
from service.cli import main

REMINDER = "Reminder: you have %(n)s question left in %(title)s."
RANGE = "Reply %(min)s-%(max)s."


@pytest.fixture(scope="module")
def template():
    return extract()


@pytest.fixture
def locales(tmp_path):
    """A copy of locales/ to break."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    return copy


def edit(locales, language, change):
    path = locales / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    change(catalog)
    with path.open("wb") as fp:
        write_po(fp, catalog)


def errors(findings):
    return [str(f) for f in findings if f.error]


def test_the_shipped_catalogs_and_surveys_pass(template):
    assert errors(check(template=template)) == [], "run `svar translate extract`, `update`, translate, then `check`"


def test_the_command_runs_and_reports_review_warnings():
    result = CliRunner().invoke(main, ["translate", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(" warning(s)\n") and result.stdout.startswith("0 error(s)")
    assert "locales/ar/LC_MESSAGES/messages.po: warning: machine-translated, needs native review" in result.stderr


def test_a_broken_placeholder_fails_the_check(locales, template):
    edit(locales, "ar", lambda c: setattr(c[RANGE], "string", "أرسل %(min)s-%(maks)s."))
    found = errors(check(locales, template=template))
    assert [f for f in found if "ar/LC_MESSAGES" in f] == [f"{locales}/ar/LC_MESSAGES/messages.po: error: 'Reply %(min)s-%(max)s.': unknown placeholder(s) %(maks)s"]


def test_a_dropped_placeholder_fails_the_check(locales, template):
    edit(locales, "pl", lambda c: setattr(c[RANGE], "string", "Wyślij liczbę."))
    assert any("missing placeholder(s) %(max)s, %(min)s" in f for f in errors(check(locales, template=template)))


def test_a_missing_plural_form_and_wrong_plural_rule_fail_the_check(locales, template):
    def break_arabic(catalog):
        message = catalog[REMINDER]
        message.string = (*message.string[:5], "")

    edit(locales, "ar", break_arabic)
    path = locales / "uk" / "LC_MESSAGES" / "messages.po"
    path.write_text(path.read_text(encoding="utf-8").replace("nplurals=3;", "nplurals=2;", 1), encoding="utf-8")
    found = errors(check(locales, template=template))
    assert any("ar/LC_MESSAGES" in f and "untranslated 'Reminder: you have %(n)s question left" in f for f in found)
    assert any("uk/LC_MESSAGES" in f and "Plural-Forms is" in f for f in found)


def test_a_missing_language_and_a_missing_message_fail_the_check(locales, template):
    shutil.rmtree(locales / "ti")
    edit(locales, "so", lambda c: c.delete(RANGE))
    found = errors(check(locales, template=template))
    assert any("no catalog for shipped language 'ti'" in f for f in found)
    assert any("so/LC_MESSAGES" in f and "missing message 'Reply %(min)s-%(max)s.'" in f for f in found)
    # The bundled survey speaks Tigrinya, which now has no catalog.
    assert any("language 'ti' has no catalog" in f for f in found)


def test_a_survey_missing_a_translation_fails_the_check(tmp_path, template):
    survey = tmp_path / "s.yaml"
    survey.write_text("key: s\nspec_version: 1\ndefault_language: nb\nlanguages: [nb, ar]\ntitle: {nb: T, ar: ت}\nquestions:\n  - id: q\n    type: text\n    text: {nb: Q}\n", encoding="utf-8")
    found = errors(check(template=template, surveys=[survey]))
    assert f"{survey}:9: error: question 'q' text has no 'ar' translation" in found


def test_compile_leaves_broken_messages_out(locales, monkeypatch):
    from service.cli import catalogs

    edit(locales, "nb", lambda c: setattr(c[RANGE], "string", "Svar %(min)s-%(maks)s."))
    catalogs.compile_all(locales)
    monkeypatch.setattr(i18n, "LOCALES", locales)
    i18n.translations.cache_clear()
    i18n.messages.cache_clear()
    try:
        m = i18n.messages("nb")
        assert m.gettext(RANGE, min=1, max=6) == "Reply 1-6."
        assert m.gettext("Skip") == "Hopp over"
    finally:
        i18n.translations.cache_clear()
        i18n.messages.cache_clear()
