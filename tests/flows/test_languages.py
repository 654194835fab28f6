"""Language codes, CLDR names, the language menu and right-to-left marks, as exact strings."""
import pytest

from flows import bidi
from flows import language_menu
from flows.languages import SHIPPED
from flows.languages import english_name
from flows.languages import is_rtl
from flows.languages import native_name
from flows.languages import normalise
from flows.languages import resolve

RLM, LRI, PDI, LRM, FSI = "\u200f", "\u2066", "\u2069", "\u200e", "\u2068"


@pytest.mark.parametrize(
    "given, expected",
    [("nb", "nb"), ("nb-NO", "nb_NO"), ("FA-af", "fa_AF"), ("fa_AF", "fa_AF"), ("no", "nb"), ("prs", "fa_AF"), ("ukr", "uk"),
     ("sr-latn-rs", "sr_Latn_RS"), ("", None), ("x", None), ("12", None), (None, None), (42, None)],
)
def test_codes_are_normalised_to_gettext_locale_names(given, expected):
    assert normalise(given) == expected


@pytest.mark.parametrize(
    "code, expected",
    [
        ("ar", "ar"),
        ("nb-NO", "nb"),  # Telegram's language_code with a region
        ("no", "nb"),
        ("fa-AF", "fa_AF"),
        ("fa-IR", "fa"),
        ("de", "da"),  # unknown: the campaign's default
        (None, "da"),
        ("klingon", "da"),
    ],
)
def test_resolve_falls_back_to_the_default(code, expected):
    assert resolve(code, SHIPPED, "da") == expected


def test_resolve_finds_a_regional_relative():
    assert resolve("fa", ("nb", "fa_AF"), "nb") == "fa_AF"


def test_every_shipped_language_has_its_own_cldr_name():
    names = {language: native_name(language) for language in SHIPPED}
    assert names == {
        "nb": "norsk bokmål", "nn": "norsk nynorsk", "da": "dansk", "sv": "svenska", "en": "English",
        "ar": "العربية", "so": "Soomaali", "ti": "ትግርኛ", "fa": "فارسی", "fa_AF": "دری", "uk": "українська", "pl": "polski",
    }
    assert english_name("fa_AF") == "Dari"


def test_right_to_left_languages():
    assert [language for language in SHIPPED if is_rtl(language)] == ["ar", "fa", "fa_AF"]


# --- bidi: exact strings ------------------------------------------------------


def test_rtl_lines_start_with_rlm_and_isolate_latin_runs():
    text = "1/17 ما مدى رضاك؟\n1 = غير راض جدا، 6 = راض جدا. أرسل رقما من 1 إلى 6."
    assert bidi.for_phone(text, "ar") == (
        f"{RLM}{LRI}1/17{PDI} ما مدى رضاك؟\n"
        f"{RLM}{LRI}1{PDI} = غير راض جدا، {LRI}6{PDI} = راض جدا. أرسل رقما من {LRI}1{PDI} إلى {LRI}6{PDI}."
    )


def test_a_code_a_range_and_a_latin_name_each_stay_one_run():
    text = "تدعوك Oslo kommune. أرسل الرمز ABCD-EFGH أو 1-6."
    assert bidi.for_phone(text, "fa") == f"{RLM}تدعوك {LRI}Oslo kommune{PDI}. أرسل الرمز {LRI}ABCD-EFGH{PDI} أو {LRI}1-6{PDI}."


def test_marks_are_added_once_and_left_to_right_languages_are_untouched():
    once = bidi.for_phone("1) نعم", "ar")
    assert once == f"{RLM}{LRI}1{PDI}) نعم"
    assert bidi.for_phone(once, "ar") == once
    assert bidi.for_phone("1) Ja", "nb") == "1) Ja"
    assert bidi.strip_marks(once) == "1) نعم"


# --- the menu -----------------------------------------------------------------


def test_menu_lists_each_language_in_its_own_name_and_isolates_the_other_direction():
    outbound = language_menu.menu(("nb", "ar", "en"), "nb")
    assert outbound.text == (
        "Velg språk. Svar med et tall:\nChoose your language. Reply with a number:\n"
        f"1) norsk bokmål\n{LRM}2) {FSI}العربية{PDI}\n3) English"
    )
    assert [(o.reply, o.label) for o in outbound.options] == [("1", "norsk bokmål"), ("2", "العربية"), ("3", "English")]


def test_menu_without_english_has_one_header():
    assert language_menu.menu(("nb", "da"), "da").text.splitlines()[0] == "Vælg sprog. Svar med et tal:"
    assert len(language_menu.menu(("nb", "da"), "da").text.splitlines()) == 3


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("3", "da"), ("٣", "da"), ("۳", "da"), ("፫", "da"), ("3️⃣", "da"),
        ("العربية", "ar"), ("عربي", "ar"), ("Arabic", "ar"), ("arabisk", "ar"), ("ARAB", "ar"),
        ("dansk", "da"), ("norsk", "nb"), ("bokmål", "nb"), ("nynorsk", "nn"), ("svenska", "sv"),
        ("ትግርኛ", "ti"), ("tigrinya", "ti"), ("Soomaali", "so"), ("somali", "so"),
        ("فارسی", "fa"), ("farsi", "fa"), ("دری", "fa_AF"), ("dari", "fa_AF"), ("fa-AF", "fa_AF"),
        ("українська", "uk"), ("ukrainsk", "uk"), ("polski", "pl"), ("english", "en"), ("en", "en"),
        ("13", None), ("0", None), ("xyz", None), ("", None), ("no", None), ("👍", None),
    ],
)
def test_menu_choice_by_number_code_or_name(typed, expected):
    assert language_menu.choice(typed, SHIPPED) == expected


def test_menu_choice_counts_only_offered_languages():
    assert language_menu.choice("2", ("nb", "ar")) == "ar"
    assert language_menu.choice("dansk", ("nb", "ar")) is None
