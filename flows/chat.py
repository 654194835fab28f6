"""Chat channels (Telegram): what a pressed button means, and replies to what cannot be read."""
from flows import render
from flows import words
from flows.i18n import messages
from flows.model import Outbound
from flows.model import State
from flows.model import Status
from flows.model import Survey

# Commands a chat offers, as the words the engine already understands in every language.
COMMANDS = {
    "help": words.HELP["en"][0],
    "stop": words.STOP["en"][0],
    "language": words.LANGUAGE["en"][0],
}


def button_reply(survey: Survey, state: State, question_id: str | None, option: int | None) -> str | None:
    """What typing the pressed button means, or None if it belongs to no question now awaiting an answer."""
    if state.status != Status.ACTIVE or question_id is None or question_id != state.position or option is None:
        return None
    if question_id not in {q.id for q in survey.questions}:
        return None
    language = render.language_of(survey, state.language)
    # Options are rendered again rather than stored: their order does not
    # depend on the language, so a press still means the same answer after
    # the respondent switched language.
    offered = render.options(survey, survey.question(question_id), language)
    if not 0 <= option < len(offered):
        return None
    return offered[option].reply


def unreadable(kind: str, language: str) -> Outbound:
    """A short explanation for a message with nothing to answer with; the respondent keeps their place."""
    m = messages(language)
    if kind == "edited":
        return Outbound(m.gettext("I cannot read changes to a message. Please send your answer again as a new message."))
    if kind == "command":
        return Outbound(m.gettext("I do not know that command. Send /help for help or /stop to opt out."))
    return Outbound(m.gettext("I can only read text. Please answer with the buttons or write your answer."))
