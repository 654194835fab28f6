"""How a question looks on a phone: compact SMS text plus buttons for chat channels.

Texts stay in GSM-7 for the Nordic languages, English, Polish and Somali
(straight quotes, plain hyphens, no ellipsis): one typographic character
turns a whole SMS into UCS-2 and more than doubles the number of segments.
Arabic and Persian texts get direction marks so that digits, ranges and
codes inside them read correctly (see flows/bidi.py).
"""
from flows import bidi
from flows.answers import allows_dont_know
from flows.i18n import Messages
from flows.i18n import messages
from flows.languages import GSM7_FRIENDLY
from flows.languages import is_rtl
from flows.model import Option
from flows.model import Outbound
from flows.model import Question
from flows.model import QuestionType
from flows.model import Survey
from flows.model import Texts
from flows.segments import gsm_safe


def language_of(survey: Survey, language: str) -> str:
    """The language to talk in: the respondent's if the survey has it, else the survey's default."""
    return language if language in survey.languages else survey.default_language


def for_phone(text: str, language: str) -> str:
    """The last step before a text leaves: direction marks for RTL, plain typography for GSM-7."""
    if is_rtl(language):
        return bidi.for_phone(text, language)
    if language in GSM7_FRIENDLY:
        return gsm_safe(text)
    return text


def text_in(texts: Texts, language: str, fallback: str) -> str:
    """One text of a survey; validation guarantees every language, this guards old states."""
    return texts.get(language) or texts.get(fallback) or ""


def number(value: float | None) -> str:
    """3.0 -> "3", 2.5 -> "2.5"."""
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


def question(survey: Survey, q: Question, language: str, place: tuple[int, int], *, hint: str | None = None, before: str = "") -> Outbound:
    """The Outbound that asks `q`; `hint` replaces the usual instruction after a wrong answer."""
    m = messages(language)
    lines = [before] if before else []
    lines.append(f"{place[0]}/{place[1]} {text_in(q.text, language, survey.default_language)}")
    body = _body(survey, q, language, m)
    lines.extend(body)
    tail = hint if hint is not None else instruction(q, m)
    if q.optional:
        skip = m.gettext("Reply '-' to skip.")
        tail = f"{tail} {skip}".strip()
    if tail:
        if q.type == QuestionType.SCALE and body:
            lines[-1] = f"{lines[-1]} {tail}"  # legend and instruction share a line
        else:
            lines.append(tail)
    return Outbound(text="\n".join(lines), question_id=q.id, options=options(survey, q, language))


def _body(survey: Survey, q: Question, language: str, m: Messages) -> list[str]:
    if q.type == QuestionType.SCALE:
        scale = q.scale
        low = text_in(scale.low, language, survey.default_language)
        high = text_in(scale.high, language, survey.default_language)
        if low and high:
            # A message of its own so that each language writes its own comma ("،" in Arabic).
            return [m.gettext("%(min)s = %(low)s, %(max)s = %(high)s.", min=scale.min, low=low, max=scale.max, high=high)]
        return []
    if q.type in (QuestionType.CHOICE, QuestionType.MULTI):
        return [f"{i}) {text_in(c.label, language, survey.default_language)}" for i, c in enumerate(q.choices, 1)]
    return []


def instruction(q: Question, m: Messages) -> str:
    """The line that says how to answer."""
    dk = allows_dont_know(q)
    words = {"dont_know": m.gettext("don't know"), "yes": m.gettext("yes"), "no": m.gettext("no")}
    if q.type == QuestionType.SCALE:
        if dk:
            return m.gettext("Reply %(min)s-%(max)s or '%(dont_know)s'.", min=q.scale.min, max=q.scale.max, **words)
        return m.gettext("Reply %(min)s-%(max)s.", min=q.scale.min, max=q.scale.max)
    if q.type == QuestionType.CHOICE:
        if dk:
            return m.gettext("Reply with a number or '%(dont_know)s'.", **words)
        return m.gettext("Reply with a number.")
    if q.type == QuestionType.MULTI:
        return m.gettext("Reply with one or more numbers, like 1,3.")
    if q.type == QuestionType.YESNO:
        if dk:
            return m.gettext("Reply '%(yes)s', '%(no)s' or '%(dont_know)s'.", **words)
        return m.gettext("Reply '%(yes)s' or '%(no)s'.", **words)
    if q.type == QuestionType.NUMBER:
        if q.min is not None and q.max is not None:
            return m.gettext("Reply with a number from %(min)s to %(max)s.", min=number(q.min), max=number(q.max))
        return m.gettext("Reply with a number.")
    return ""


def hint(q: Question, key: str, m: Messages) -> str:
    """A kind explanation of what we expected, after an answer we could not read."""
    dk = allows_dont_know(q)
    words = {"dont_know": m.gettext("don't know"), "yes": m.gettext("yes"), "no": m.gettext("no")}
    if key == "scale":
        if dk:
            return m.gettext("Please answer with a number from %(min)s to %(max)s, or '%(dont_know)s'.", min=q.scale.min, max=q.scale.max, **words)
        return m.gettext("Please answer with a number from %(min)s to %(max)s.", min=q.scale.min, max=q.scale.max)
    if key == "choice":
        if dk:
            return m.gettext("Please answer with a number from 1 to %(max)s, or '%(dont_know)s'.", max=len(q.choices), **words)
        return m.gettext("Please answer with a number from 1 to %(max)s.", max=len(q.choices))
    if key == "multi":
        return m.gettext("Please answer with one or more numbers from 1 to %(max)s, like 1,3.", max=len(q.choices))
    if key == "yesno":
        if dk:
            return m.gettext("Please answer '%(yes)s', '%(no)s' or '%(dont_know)s'.", **words)
        return m.gettext("Please answer '%(yes)s' or '%(no)s'.", **words)
    if key == "number" and q.min is not None and q.max is not None:
        return m.gettext("Please answer with a number from %(min)s to %(max)s.", min=number(q.min), max=number(q.max))
    if key == "number":
        return m.gettext("Please answer with a number.")
    return m.gettext("Please write your answer in a message.")


def options(survey: Survey, q: Question, language: str) -> tuple[Option, ...]:
    """Buttons for chat channels; each reply is something the parser accepts."""
    m = messages(language)
    found: list[Option] = []
    if q.type == QuestionType.SCALE:
        scale = q.scale
        low = text_in(scale.low, language, survey.default_language)
        high = text_in(scale.high, language, survey.default_language)
        for value in range(scale.min, scale.max + 1):
            label = f"{value} - {low}" if value == scale.min and low else f"{value} - {high}" if value == scale.max and high else str(value)
            found.append(Option(reply=str(value), label=label))
    elif q.type in (QuestionType.CHOICE, QuestionType.MULTI):
        # A multi answer takes several numbers, which buttons cannot send: typed only.
        if q.type == QuestionType.CHOICE:
            found.extend(Option(reply=str(i), label=text_in(c.label, language, survey.default_language)) for i, c in enumerate(q.choices, 1))
    elif q.type == QuestionType.YESNO:
        found.append(Option(reply=m.gettext("yes"), label=m.gettext("Yes")))
        found.append(Option(reply=m.gettext("no"), label=m.gettext("No")))
    if allows_dont_know(q):
        found.append(Option(reply=m.gettext("don't know"), label=m.gettext("Don't know")))
    if q.optional:
        found.append(Option(reply="-", label=m.gettext("Skip")))
    return tuple(found)
