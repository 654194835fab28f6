"""Replies to messages that belong to no conversation yet; the caller picks the language."""
from datetime import timedelta

from flows.codes import normalise_code
from flows.dates import duration_text
from flows.i18n import N_
from flows.i18n import messages
from flows.model import Outbound
from flows.render import for_phone


def _reply(language: str, message: str, **params) -> Outbound:
    return Outbound(for_phone(messages(language).gettext(message, **params), language))


def looks_like_code(text: str) -> str | None:
    """The normalised one-time code in `text` (the whole message), or None."""
    return normalise_code(text)


def unknown_sender(language: str) -> Outbound:
    """Someone wrote without an invitation or a code."""
    return _reply(language, N_("This is Svar, a service for anonymous user surveys. To start a survey, send the one-time code you were given."))


def code_not_found(language: str) -> Outbound:
    """A code-shaped message that matches no invitation."""
    return _reply(language, N_("We could not find that code. Please check it and send it again."))


def too_many_code_attempts(language: str, wait: timedelta) -> Outbound:
    """The sender typed too many wrong codes; none are checked for `wait`, told in their language."""
    return _reply(language, N_("Too many wrong codes. Please wait %(wait)s and try again."), wait=duration_text(wait, language))


def campaign_not_open(language: str) -> Outbound:
    """The code belongs to a survey that has not opened yet."""
    return _reply(language, N_("This survey has not opened yet. Please send your code again when it opens."))


def code_in_use(language: str) -> Outbound:
    """The code is already being answered from another phone or chat."""
    return _reply(language, N_("This code is already in use. If you did not use it, ask for a new code."))


def already_answered(language: str) -> Outbound:
    """The code or address has completed the survey."""
    return _reply(language, N_("You have already answered this survey. Thank you!"))


def campaign_closed(language: str) -> Outbound:
    """The survey the code belongs to is closed."""
    return _reply(language, N_("This survey has closed. Thank you for your interest."))


def opted_out_confirmation(language: str) -> Outbound:
    """STOP from someone without a conversation: confirm all the same."""
    return _reply(language, N_("You are now opted out and will get no more messages about this survey."))
