"""One-time codes and the replies to senders without a conversation."""
import pytest

from flows import intake
from flows.codes import ALPHABET
from flows.codes import normalise_code
from flows.model import Outbound


@pytest.mark.parametrize("typed", ["ABCD-EFGH", "abcd efgh", "abcdefgh", " AbCd-EfGh ", "ABCD–EFGH", "ABCD_EFGH", "ＡＢＣＤ-ＥＦＧＨ", "abcd\nefgh"])
def test_codes_are_accepted_however_typed(typed):
    assert normalise_code(typed) == "ABCDEFGH"


@pytest.mark.parametrize("typed", ["ABCD-EFG", "ABCD-EFG0", "ABCD-EFGO", "ABCD-EFG1", "ABCD-EFGI", "hello there", "5", "", "ja takk", "ABCD-EFGH!", "æøåæøåæø"])
def test_not_codes(typed):
    assert normalise_code(typed) is None


def test_alphabet_has_no_lookalikes():
    assert not set("01OI") & set(ALPHABET)
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32


def test_looks_like_code_returns_the_normalised_code():
    assert intake.looks_like_code("k7qm 3xwd") == "K7QM3XWD"
    assert intake.looks_like_code("5") is None


@pytest.mark.parametrize("reply", ["unknown_sender", "code_not_found", "code_in_use", "already_answered", "campaign_closed", "opted_out_confirmation"])
def test_replies_exist_in_english_and_bokmal(reply):
    english, bokmal = getattr(intake, reply)("en"), getattr(intake, reply)("nb")
    assert isinstance(english, Outbound) and english.text and english.question_id is None
    assert bokmal.text and bokmal.text != english.text


def test_unknown_sender_explains_how_to_start():
    assert "one-time code" in intake.unknown_sender("en").text
    assert "engangskoden" in intake.unknown_sender("nb").text
