"""Comments shown to staff carry no control or bidi override characters (issue 15, bad input)."""
import pytest

from service.answer_side.comment_text import shown_comment
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units
from tests.service.test_results import results

TROJAN = "Bra \u202eexe.gnp\u202c tjeneste"
ESCAPES = "R\u00f8d\x1b[31m tekst\x07\x00 her"


@pytest.mark.parametrize("typed, shown", [
    (TROJAN, "Bra exe.gnp tjeneste"),
    (ESCAPES, "R\u00f8d[31m tekst her"),
    ("første linje\nandre\r\nlinje", "første linje andre linje"),
    ("\u2066isolert\u2069 \u2067tekst\u2069\u200f", "isolert tekst"),
    ("می\u200cخواهم", "می\u200cخواهم"),  # Persian keeps its zero-width non-joiner
    ("linje\u2028skille", "linje skille"),
])
def test_comment_text_is_cleaned_for_staff(typed, shown):
    assert shown_comment(typed) == shown


def test_results_show_comments_without_controls(runtime):
    world = campaign_with_units(runtime)
    texts = [TROJAN, ESCAPES, "to\nlinjer"] + [f"Kommentar {n}" for n in range(9)]
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(comment=text) for text in texts])
    shown = results(runtime, world)["comments"]["comment"]["organisation"]
    assert "Bra exe.gnp tjeneste" in shown and "to linjer" in shown
    for text in shown:
        assert not any(ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in text), repr(text)
