"""SMS segments: GSM-7 (basic and extension table) and UCS-2, against known cases."""
import pytest

from flows.segments import GSM7
from flows.segments import UCS2
from flows.segments import count
from flows.segments import gsm_safe
from flows.segments import is_gsm7


@pytest.mark.parametrize(
    "text, encoding, units, segments",
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("æøåÆØÅäöÄÖé@£$" * 10, GSM7, 140, 1),  # Nordic letters are in the basic table
        ("€" * 80, GSM7, 160, 1),  # extension characters take two septets
        ("€" * 81, GSM7, 162, 2),
        ("[]{}^~|\\", GSM7, 16, 1),
        ("a" * 152 + "€", GSM7, 154, 1),
        ("a" * 152 + "€" + "a" * 10, GSM7, 164, 2),
        ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3),  # 306 septets, yet the escape pair never straddles two parts
        ("ł" * 70, UCS2, 70, 1),  # one Polish letter makes it UCS-2
        ("ł" * 71, UCS2, 71, 2),
        ("ł" * 134, UCS2, 134, 2),
        ("ł" * 135, UCS2, 135, 3),
        ("مرحبا" * 14, UCS2, 70, 1),
        ("😀" * 35, UCS2, 70, 1),  # emoji are two UTF-16 units
        ("😀" * 36, UCS2, 72, 2),
        ("a" * 66 + "😀", UCS2, 68, 1),
        ("a" * 66 + "😀" + "a" * 66, UCS2, 134, 3),  # 134 units, yet the surrogate pair is never split
        ("Hei’", UCS2, 4, 1),  # a curly apostrophe alone forces UCS-2
    ],
)
def test_known_cases(text, encoding, units, segments):
    assert count(text).to_dict() == {"encoding": encoding, "units": units, "segments": segments}


def test_gsm_safe_replaces_typography_that_forces_ucs2():
    text = "It’s “fine” – really… see 1\u00a0234 — ‘ok’"
    assert gsm_safe(text) == "It's \"fine\" - really... see 1 234 - 'ok'"
    assert not is_gsm7(text) and is_gsm7(gsm_safe(text))


def test_gsm_safe_leaves_letters_alone():
    assert gsm_safe("Ærlig talt, ąę ł") == "Ærlig talt, ąę ł"
