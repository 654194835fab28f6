"""What a reminder says, in the respondent's language: why, by when, how to go on or stop.

Pure: the caller gives the deadline as a local date. Texts stay GSM-7 (no
curly quotes or dashes) so an SMS reminder fits two parts.
"""
from dataclasses import replace
from datetime import date

from flows.dates import deadline_text
from flows.i18n import messages
from flows.model import Outbound
from flows.model import Sprint
from flows.render import for_phone

REMINDER = "reminder"
LAST_CHANCE = "last_chance"
NUDGE = "nudge"


def reminder_text(kind: str, language: str, *, organisation: str, title: str, deadline: date | None, code: str | None) -> str:
    """A reminder to someone who has not started: `kind` is reminder or last_chance; it repeats their `code` if given."""
    # As sent: direction marks for Arabic and Persian, plain typography for GSM-7 languages.
    if code is None:
        text = _without_code(kind, language, organisation=organisation, title=title, deadline=deadline)
    else:
        text = _with_code(kind, language, organisation=organisation, title=title, deadline=deadline, code=code)
    return for_phone(text, language)


def _with_code(kind: str, language: str, *, organisation: str, title: str, deadline: date | None, code: str) -> str:
    m = messages(language)
    when = deadline_text(deadline, language) if deadline is not None else None
    # The code as well as "reply": a respondent who answers from another phone, or
    # in an interview, can still start with it.
    if kind == LAST_CHANCE and when:
        return m.gettext(
            "Last chance: the survey %(title)s from %(organisation)s closes on %(deadline)s. "
            "Reply to this message to start, or send the code %(code)s. "
            "Your answers are anonymous. Reply STOP to opt out.",
            title=title,
            organisation=organisation,
            deadline=when,
            code=code,
        )
    if when:
        return m.gettext(
            "Reminder: %(organisation)s would like your answers to the survey %(title)s by %(deadline)s. "
            "Reply to this message to start, or send the code %(code)s. "
            "Your answers are anonymous. Reply STOP to opt out.",
            organisation=organisation,
            title=title,
            deadline=when,
            code=code,
        )
    return m.gettext(
        "Reminder: %(organisation)s would like your answers to the survey %(title)s. "
        "Reply to this message to start, or send the code %(code)s. "
        "Your answers are anonymous. Reply STOP to opt out.",
        organisation=organisation,
        title=title,
        code=code,
    )


def _without_code(kind: str, language: str, *, organisation: str, title: str, deadline: date | None) -> str:
    # For invitations whose code was not kept (issued before codes were kept encrypted).
    m = messages(language)
    when = deadline_text(deadline, language) if deadline is not None else None
    if kind == LAST_CHANCE and when:
        return m.gettext(
            "Last chance: the survey %(title)s from %(organisation)s closes on %(deadline)s. "
            "Reply to this message to answer; it takes a few minutes. "
            "Your answers are anonymous. Reply STOP to opt out.",
            title=title,
            organisation=organisation,
            deadline=when,
        )
    if when:
        return m.gettext(
            "Reminder: %(organisation)s would like your answers to the survey %(title)s by %(deadline)s. "
            "Reply to this message to start. Your answers are anonymous. Reply STOP to opt out.",
            organisation=organisation,
            title=title,
            deadline=when,
        )
    return m.gettext(
        "Reminder: %(organisation)s would like your answers to the survey %(title)s. "
        "Reply to this message to start. Your answers are anonymous. Reply STOP to opt out.",
        organisation=organisation,
        title=title,
    )


def nudge_footer(kind: str, language: str, deadline: date | None) -> str:
    """The line after the engine's "N questions left" nudge: by when, and how to stop."""
    return for_phone(_nudge_footer(kind, language, deadline), language)


def _nudge_footer(kind: str, language: str, deadline: date | None) -> str:
    m = messages(language)
    when = deadline_text(deadline, language) if deadline is not None else None
    if kind == LAST_CHANCE and when:
        return m.gettext("Last chance: the survey closes on %(deadline)s. Send STOP to opt out.", deadline=when)
    if when:
        return m.gettext("Please answer by %(deadline)s. Send STOP to opt out.", deadline=when)
    return m.gettext("Send STOP to opt out.")


def with_footer(sprint: Sprint, footer: str) -> Sprint:
    """The engine's reminder Sprint with `footer` after its last message."""
    if not sprint.outbound:
        return sprint
    *first, last = sprint.outbound
    last = Outbound(f"{last.text}\n{footer}", last.question_id, last.options)
    return replace(sprint, outbound=(*first, last))
