"""What a step takes in: one respondent message, as every channel adapter parses it."""
from dataclasses import dataclass


@dataclass(frozen=True)
class InboundMessage:
    """A message from a respondent, as the runner needs it and no more."""

    channel: str
    external_id: str  # the provider's id (Twilio MessageSid, Telegram update_id)
    address: str  # normalised: E.164 phone number or chat id
    text: str
    language_hint: str | None = None
    # Chat channels only; SMS leaves these unset.
    code: str | None = None  # a one-time code handed over out of band (Telegram's /start CODE)
    question_id: str | None = None  # a pressed button: the question it was offered with
    option: int | None = None  # and its position among that question's options
    unreadable: str | None = None  # nothing to answer with: "media", "edited" or "command"
