"""Reading the answer side: counts and sums per unit, group and question, in SQL.

Only `responses` and `answers` are read; nothing here can reach the dispatch
side. Values are grouped by their JSON text so the database does the
counting; Python only decodes the few distinct values per question.
"""
import json

from sqlalchemy import Text
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select

from flows.model import DONT_KNOW
from flows.model import Question
from flows.model import QuestionType

from ..models import Answer
from ..models import Response
from .result_tables import categories


def response_counts(session, campaign_id: int) -> list[tuple]:
    """(unit_id, group_id, responses) of a campaign."""
    return session.execute(
        select(Response.unit_id, Response.group_id, func.count())
        .where(Response.campaign_id == campaign_id)
        .group_by(Response.unit_id, Response.group_id)
    ).all()


def value_counts(session, campaign_id: int, question_ids) -> list[tuple]:
    """(unit_id, group_id, question_id, value as JSON text, count) for the given questions."""
    text = cast(Answer.value, Text)
    return session.execute(
        select(Response.unit_id, Response.group_id, Answer.question_id, text, func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign_id, Answer.question_id.in_(list(question_ids)))
        .group_by(Response.unit_id, Response.group_id, Answer.question_id, text)
    ).all()


def numeric_sums(session, campaign_id: int) -> list[tuple]:
    """(unit_id, group_id, question_id, count, sum) of numeric answers, for means."""
    return session.execute(
        select(Response.unit_id, Response.group_id, Answer.question_id, func.count(Answer.number), func.sum(Answer.number))
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign_id, Answer.number.is_not(None))
        .group_by(Response.unit_id, Response.group_id, Answer.question_id)
    ).all()


def text_answers(session, campaign_id: int, question_ids) -> list[tuple]:
    """(unit_id, group_id, question_id, text) of written answers; no order, no response id."""
    rows = session.execute(
        select(Response.unit_id, Response.group_id, Answer.question_id, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign_id, Answer.question_id.in_(list(question_ids)))
    ).all()
    return [(u, g, q, v.strip()) for u, g, q, v in rows if isinstance(v, str) and v.strip() and v != DONT_KNOW]


def decode(value_text):
    """A stored value from its JSON text; SQL NULL and JSON null are both None."""
    return None if value_text is None else json.loads(value_text)


def cell_counts(question: Question, value) -> dict:
    """The cells one answer adds 1 to: n, answered/skipped/dont_know and its categories."""
    if value is None or value == "" or value == []:
        return {"n": 1, "skipped": 1}
    if value == DONT_KNOW:
        return {"n": 1, "dont_know": 1}
    known = categories(question)
    if question.type == QuestionType.MULTI:
        chosen = value if isinstance(value, list) else [value]
        return {"n": 1, "answered": 1, **{("c", c): 1 for c in dict.fromkeys(chosen) if c in known}}
    if question.type == QuestionType.SCALE:
        category = str(int(value)) if isinstance(value, (int, float)) and float(value).is_integer() else None
        return {"n": 1, "answered": 1, ("c", category): 1} if category in known else {}
    if question.type in (QuestionType.CHOICE, QuestionType.YESNO):
        return {"n": 1, "answered": 1, ("c", value): 1} if value in known else {}
    return {"n": 1, "answered": 1}
