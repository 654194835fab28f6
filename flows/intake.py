"""Replies to messages that belong to no conversation yet; the caller picks the language."""
from flows.codes import normalise_code
from flows.i18n import messages
from flows.model import Outbound
from flows.render import for_phone


def looks_like_code(text: str) -> str | None:
    """The normalised one-time code in `text` (the whole message), or None."""
    return normalise_code(text)


def unknown_sender(language: str) -> Outbound:
    """Someone wrote without an invitation or a code."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("This is Svar, a service for anonymous user surveys. To start a survey, send the one-time code you were given."), language))


def code_not_found(language: str) -> Outbound:
    """A code-shaped message that matches no invitation."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("We could not find that code. Please check it and send it again."), language))


def too_many_code_attempts(language: str) -> Outbound:
    """The sender typed too many wrong codes; no more are checked for a while."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("Too many wrong codes. Please wait an hour and try again."), language))


def campaign_not_open(language: str) -> Outbound:
    """The code belongs to a survey that has not opened yet."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("This survey has not opened yet. Please send your code again when it opens."), language))


def code_in_use(language: str) -> Outbound:
    """The code is already being answered from another phone or chat."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("This code is already in use. If you did not use it, ask for a new code."), language))


def already_answered(language: str) -> Outbound:
    """The code or address has completed the survey."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("You have already answered this survey. Thank you!"), language))


def campaign_closed(language: str) -> Outbound:
    """The survey the code belongs to is closed."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("This survey has closed. Thank you for your interest."), language))


def opted_out_confirmation(language: str) -> Outbound:
    """STOP from someone without a conversation: confirm all the same."""
    m = messages(language)
    return Outbound(for_phone(m.gettext("You are now opted out and will get no more messages about this survey."), language))
