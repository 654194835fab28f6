"""Codes are read however they arrive (A7): marks, invisible characters, look-alikes, other digits."""
import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.codes import ALPHABET
from flows.codes import INVISIBLE
from flows.codes import LOOKALIKES
from flows.codes import normalise_code
from flows.languages import RTL
from service.dispatch.codes import display
from service.dispatch.invitations import invitation_text

CODE = "K7QM3XWD"


@pytest.mark.parametrize("typed", [
    "\u2066K7QM-3XWD\u2069",  # the isolate Svar puts around a code in Arabic
    "\u200fK7QM-3XWD\u200e",
    "\u061cK7QM\u202a-3XWD\u202c",
    "\u202bK7QM\u202d3XWD\u202e",
    "\u2067K7QM\u20683XWD\u2069",
    "K7QM\u200b3X\u200cW\u200dD\u2060\ufeff",
    "Ｋ７ＱＭ－３ＸＷＤ",
    "к7qм 3хwd",  # Cyrillic к, м, х typed on a Russian or Ukrainian layout
    "Κ7QΜ-3ΧWD",  # Greek capitals
    "K٧QM-٣XWD",  # Arabic-Indic digits
    "K۷QM-۳XWD",  # Extended Arabic-Indic (Persian) digits
    "K७QM-३XWD",  # Devanagari
    "K৭QM-৩XWD",  # Bengali
])
def test_a_code_is_read_through_its_decorations(typed):
    assert normalise_code(typed) == CODE


@pytest.mark.parametrize("typed", ["K7QM-3XW0", "K7QM-3XWO", "K7QM-3XW\u041e", "K7QM-3XW\u039f", "K7QM-3XW\u0661", "K7QM-3XW\u0399", "K7QM-3XWI"])
def test_letters_the_alphabet_excludes_are_not_guessed_at(typed):
    # O/0 and I/1 (and their look-alikes and other-script digits) stay not-a-code.
    assert normalise_code(typed) is None


def test_the_lookalike_table_maps_only_to_latin_letters_or_excluded_ones():
    for source, latin in LOOKALIKES.items():
        assert unicodedata.name(source).startswith(("CYRILLIC", "GREEK")), source
        assert latin in ALPHABET or latin in "OI"


@pytest.mark.parametrize("language", sorted(RTL))
def test_a_code_copied_from_an_rtl_invitation_reads_back(language):
    text = invitation_text("Oslo kommune", "Tittel", display(CODE), language)
    [token] = [word for word in text.split() if "3XWD" in word]
    # What a phone copies: the word with its invisible marks, minus sentence punctuation.
    copied = token.strip(string.punctuation + "،؛۔«»")
    assert normalise_code(copied) == CODE
    assert normalise_code(text.split("\n")[0]) is None  # the whole message is not a code


codes = st.text(alphabet=ALPHABET, min_size=8, max_size=8)
decorations = st.sampled_from(sorted(INVISIBLE) + [" ", "-", "\u2013", "_"])


def _dress(code, data):
    out = []
    for ch in code:
        out.append(data.draw(st.lists(decorations, max_size=2).map("".join)))
        variants = [ch, ch.lower(), unicodedata.normalize("NFKC", ch)]
        variants += [chr(0xFF21 + ord(ch) - ord("A"))] if ch.isalpha() else [chr(0xFF10 + int(ch)), chr(0x0660 + int(ch)), chr(0x06F0 + int(ch)), chr(0x0966 + int(ch))]
        variants += [k for k, v in LOOKALIKES.items() if v == ch]
        out.append(data.draw(st.sampled_from(variants)))
    return "".join(out)


@given(codes, st.data())
def test_any_decorated_code_normalises_to_the_code(code, data):
    assert normalise_code(_dress(code, data)) == code


# Letters of other scripts that are neither look-alikes nor digits.
_foreign = st.characters(categories=["Lu", "Ll", "Lo"]).filter(
    lambda ch: not unicodedata.normalize("NFKC", ch).isascii() and unicodedata.normalize("NFKC", ch).upper() not in LOOKALIKES and ch.upper() not in LOOKALIKES
)


@given(st.text(min_size=0, max_size=20), _foreign, st.text(min_size=0, max_size=20))
def test_text_with_a_foreign_letter_is_never_a_code(before, letter, after):
    assert normalise_code(before + letter + after) is None


@given(st.text(max_size=40))
def test_whatever_normalises_is_a_valid_code_of_the_right_length(text):
    code = normalise_code(text)
    assert code is None or (8 <= len(code) <= 32 and set(code) <= set(ALPHABET))
