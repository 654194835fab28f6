"""Where a one-time code goes in an invitation or reminder: the stored body holds a slot, the send sets the code in (A7).

A code is never in clear in the database: an outbox body waits for the
provider with the slot, the code rests encrypted on its invitation
(`code_enc`), and the text with the code exists only in the send job's
memory, on its way to the provider. Nothing writes it back.
"""
from cryptography.exceptions import InvalidTag

from flows.codes import normalise_code

# The code as a message shows it ("K7QM-3XWD"). Latin letters, digits and a hyphen
# of a code's length, so that what shapes a text before it is stored (bidi isolates
# around Latin runs, GSM-7 typography) treats the slot as it would the code. 0 and O
# are outside the code alphabet, so no code looks like it, and no text says it.
CODE_SLOT = "0O0O-0O0O"
# The same code as a Telegram start parameter, without its hyphen (telegram_links.py).
LINK_SLOT = "0O0O0O0O"
# Only texts Svar writes itself carry slots: a reply may quote what someone typed.
KINDS = ("invitation", "reminder")


def has_slot(body: str | None) -> bool:
    """Whether `body` waits for a code."""
    return bool(body) and (CODE_SLOT in body or LINK_SLOT in body)


def render(body: str, code: str) -> str:
    """`body` with the code (as displayed, "K7QM-3XWD") set in each of its slots."""
    return body.replace(CODE_SLOT, code).replace(LINK_SLOT, normalise_code(code) or "")


def rendered(vault, kind: str, body: str, invitation_id: int | None, code_enc: str | None) -> str | None:
    """The text to send: `body` itself without a slot, else with its invitation's code; None if that code is gone."""
    if kind not in KINDS or not has_slot(body):
        return body
    if invitation_id is None or not code_enc:
        return None
    try:
        return render(body, vault.decrypt_code(invitation_id, code_enc))
    except (InvalidTag, ValueError):
        return None
