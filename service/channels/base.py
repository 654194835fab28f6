"""The one small interface every channel adapter implements: verify, parse, send."""
from dataclasses import dataclass
from typing import Protocol

from ..conversation.inbound import InboundMessage


@dataclass(frozen=True)
class OutgoingMessage:
    """What a send job hands to a channel."""

    address: str
    text: str
    options: tuple = ()  # ({"reply": "1", "label": "..."}, ...) for buttons
    question_id: str | None = None  # the question the options answer, for chat buttons
    kind: str = "reply"  # the outbox kind; "ack" answers a Telegram button press
    # Our outbox id, echoed by the provider's status callback, so a message it
    # accepted is recognised even when the worker died before hearing so.
    reference: str | None = None


class SendError(Exception):
    """A send that did not go through."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class TemporaryFailure(SendError):
    """Try again later (429, 5xx, timeouts); retry_after in seconds if the provider said."""

    def __init__(self, message: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class OutcomeUnknown(TemporaryFailure):
    """The request may have reached the provider: wait for its status callback before sending again."""


class PermanentFailure(SendError):
    """Never going through as it is (invalid number, rejected content)."""


class RecipientOptedOut(PermanentFailure):
    """The recipient blocked us at the provider (Twilio 21610, Telegram 403)."""


class Channel(Protocol):
    name: str

    def verify(self, request) -> bool:
        """True if the Flask request really comes from the provider."""

    def parse(self, request) -> list[InboundMessage]:
        """The respondent messages in a verified request; raise ValueError if malformed."""

    def send(self, message: OutgoingMessage) -> str:
        """Send and return the provider's message id, or raise a SendError."""
