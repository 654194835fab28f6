"""The code's slot in a stored body, and the encrypted code that fills it at send time (A7)."""
from flows.bidi import LRI
from flows.bidi import PDI
from flows.codes import normalise_code
from service.outbox.code_slots import CODE_SLOT
from service.outbox.code_slots import LINK_SLOT
from service.outbox.code_slots import has_slot
from service.outbox.code_slots import render
from service.outbox.code_slots import rendered
from service.dispatch.codes import new_codes
from service.infra.crypto import Vault
from service.dispatch.invitations import invitation_text

VAULT = Vault("test-data-key")
CODE = "K7QM-3XWD"


def test_no_code_looks_like_a_slot():
    # 0 and O are outside the alphabet: neither slot can be read as a code, nor drawn as one.
    assert normalise_code(CODE_SLOT) is None and normalise_code(LINK_SLOT) is None
    assert not any(CODE_SLOT.replace("-", "") == code for code in new_codes(10_000))


def test_the_slot_gets_the_isolates_a_code_gets_in_right_to_left_text():
    for language in ("ar", "fa", "nb", "en"):
        stored = invitation_text("Oslo kommune", "Introduksjonsprogrammet", CODE_SLOT, language)
        assert render(stored, CODE) == invitation_text("Oslo kommune", "Introduksjonsprogrammet", CODE, language)
    assert f"{LRI}{CODE_SLOT}{PDI}" in invitation_text("Oslo kommune", "Introduksjonsprogrammet", CODE_SLOT, "ar")


def test_a_link_slot_gets_the_code_without_its_hyphen():
    assert render(f"https://t.me/bot?start={LINK_SLOT} or {CODE_SLOT}", CODE) == "https://t.me/bot?start=K7QM3XWD or K7QM-3XWD"


def test_an_encrypted_code_opens_only_for_its_own_invitation():
    [first, second] = VAULT.encrypt_codes([(7, CODE), (8, CODE)])
    assert first != second and CODE not in first and "K7QM3XWD" not in first
    assert VAULT.decrypt_code(7, first) == CODE
    body = f"Send the code {CODE_SLOT}."
    assert rendered(VAULT, "invitation", body, 7, first) == f"Send the code {CODE}."
    # Copied onto another invitation's row, to have its reminder carry someone else's code: nothing.
    assert rendered(VAULT, "reminder", body, 8, first) is None
    assert rendered(VAULT, "reminder", body, 7, None) is None
    assert rendered(VAULT, "reminder", body, 7, "not-a-token") is None


def test_only_svars_own_invitations_and_reminders_are_filled():
    # A reply may quote what someone typed: a slot in it is text, never their invitation's code.
    [token] = VAULT.encrypt_codes([(7, CODE)])
    quoted = f"We could not find the code {CODE_SLOT}."
    assert rendered(VAULT, "reply", quoted, 7, token) == quoted
    assert not has_slot("1/17 Reply with a number from 0 to 100000000.") and rendered(VAULT, "reminder", "Hei", None, None) == "Hei"
