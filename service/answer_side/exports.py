"""Anonymous answer exports: one row per response, protected as a whole file (A6).

A row carries unit, group, language, complete and the answers; never the
response id (a fresh random row id per export), never a time, never free
text (a comment can name its writer and would tie that name to every other
answer in the row; comments are read in the results, unlinked).

Small cells are coarsened, not dropped, so totals still match the results:
1. A row whose unit is hidden in the results is labelled with the nearest
   shown area above it, else "*" (all units); a group hidden there becomes
   "*" (any group). The results hide at least two blocks wherever they hide
   one, so a coarsened label always mixes two or more units or groups.
2. Every (unit, group) label must then cover at least k rows: smaller group
   labels become "*", a "*" bucket below k takes the next smallest group
   too, and a unit whose rows still fall short moves up to its area. Rows
   that cannot reach k even for the whole campaign are left out.
3. Inside each bucket, language and background answers could single a
   person out, so they are made k-anonymous: the attribute with most
   distinct values is blanked ("*") for the bucket while more than k rows
   are rare; the last rare rows have them all blanked, with more rows if
   fewer than k were blanked.
"""
import csv
import io
import random
import secrets
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import select

from flows.model import QuestionType
from flows.model import Survey

from ..models import Answer
from ..models import Campaign
from ..models import Response
from .result_tables import ALL
from .result_tables import ORG
from .results import Protected
from .results import protect_campaign
from .spreadsheet_cells import safe_row
from ..surveys import survey_of

ANY = "*"
FIXED_COLUMNS = ["row_id", "campaign_id", "unit", "group", "language", "complete"]
_random = random.SystemRandom()


@dataclass
class ExportRow:
    node: tuple
    group: object  # ("group", id), or ANY
    language: str
    complete: bool
    answers: dict
    row_id: str = field(default_factory=lambda: secrets.token_hex(8))


def exported_questions(survey: Survey) -> list:
    """Every question but free text, in survey order."""
    return [question for question in survey.questions if question.type != QuestionType.TEXT]


def anonymous_rows(session, campaign: Campaign, min_cell: int) -> tuple[Survey, Protected, list[ExportRow]]:
    """The campaign's responses as protected rows, in random order."""
    survey = survey_of(campaign.survey_version)
    protected = protect_campaign(session, campaign, min_cell)
    wanted = {question.id for question in exported_questions(survey)}
    responses = session.execute(
        select(Response.id, Response.unit_id, Response.group_id, Response.language, Response.complete).where(
            Response.campaign_id == campaign.id
        )
    ).all()
    answers: dict = {}
    for response_id, question_id, value in session.execute(
        select(Answer.response_id, Answer.question_id, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.campaign_id == campaign.id)
    ):
        if question_id in wanted:
            answers.setdefault(response_id, {})[question_id] = value
    rows = [
        ExportRow(node=("unit", unit_id), group=("group", group_id), language=language, complete=complete, answers=answers.get(rid, {}))
        for rid, unit_id, group_id, language, complete in responses
    ]
    rows = coarsen(rows, protected, min_cell)
    background = [question.id for question in exported_questions(survey) if question.background]
    for bucket in buckets(rows).values():
        k_anonymise(bucket, ["language", *background], min_cell)
    _random.shuffle(rows)
    return survey, protected, rows


def coarsen(rows: list[ExportRow], protected: Protected, k: int) -> list[ExportRow]:
    """Steps 1 and 2: labels the results allow, then at least k rows per label."""
    layout, hidden = protected.layout, protected.hidden
    for row in rows:
        while row.node != ORG and (row.node, ALL) in hidden:
            row.node = layout.parent[row.node]
        if row.group not in layout.groups or (row.node, row.group) in hidden:
            row.group = row.group if not layout.groups else ANY
    if (ORG, ALL) in hidden:
        # Rows under the organisation's label would publish its hidden figures, less the shown ones.
        rows = [row for row in rows if row.node != ORG]
    changed = True
    while changed:
        changed = False
        for (node, group), bucket in sorted(buckets(rows).items(), key=lambda item: (len(item[1]), repr(item[0]))):
            if len(bucket) >= k:
                continue
            changed = True
            siblings = {g: b for (n, g), b in buckets(rows).items() if n == node and g != ANY}
            if group != ANY:
                regroup(bucket, ANY)
            elif siblings:
                regroup(min(siblings.values(), key=len), ANY)
            elif node != ORG:
                for row in bucket:
                    row.node = layout.parent[node]
            else:
                # Fewer than k answers in the whole campaign: nothing can be shown.
                dropped = set(map(id, bucket))
                rows = [row for row in rows if id(row) not in dropped]
            break
    return rows


def regroup(bucket, group):
    for row in bucket:
        row.group = group


def buckets(rows: list[ExportRow]) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault((row.node, row.group), []).append(row)
    return grouped


def k_anonymise(bucket: list[ExportRow], attributes: list[str], k: int):
    """Step 3: blank attributes until every combination shown is shared by k rows."""

    def value(row, attribute):
        return row.language if attribute == "language" else _plain(row.answers.get(attribute))

    def blank(row, attribute):
        if attribute == "language":
            row.language = ANY
        else:
            row.answers[attribute] = ANY

    active = list(attributes)
    while True:
        classes = Counter(tuple(value(row, a) for a in active) for row in bucket)
        rare = [row for row in bucket if classes[tuple(value(row, a) for a in active)] < k]
        if len(rare) <= k or not active:
            break
        widest = max(active, key=lambda a: (len({value(row, a) for row in bucket}), a))
        for row in bucket:
            blank(row, widest)
        active.remove(widest)
    if not rare:
        return
    blanked = set(map(id, rare))
    remaining = [m for m in _classes(bucket, active, value).values() if id(m[0]) not in blanked]
    for members in sorted(remaining, key=len):
        if len(blanked) >= k:
            break
        blanked |= set(map(id, members))
    for row in bucket:
        if id(row) in blanked:
            for attribute in active:
                blank(row, attribute)


def _classes(bucket, active, value) -> dict:
    grouped: dict = {}
    for row in bucket:
        grouped.setdefault(tuple(value(row, a) for a in active), []).append(row)
    return grouped


def _plain(value):
    return tuple(value) if isinstance(value, list) else value


def label(protected: Protected, node_or_group) -> str:
    """The name a row shows for its unit or group; "*" when coarsened to all."""
    if node_or_group in (ANY, ORG):
        return ANY
    if node_or_group[1] is None:
        return ""
    return protected.names.get(node_or_group, str(node_or_group[1]))


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def answers_csv(session, campaign: Campaign, min_cell: int) -> str:
    """The CSV export: header, then one protected row per response in random order."""
    survey, protected, rows = anonymous_rows(session, campaign, min_cell)
    questions = [question.id for question in exported_questions(survey)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(FIXED_COLUMNS + questions))
    for row in rows:
        writer.writerow(safe_row(
            [row.row_id, campaign.id, label(protected, row.node), label(protected, row.group), row.language,
             "true" if row.complete else "false"]
            + [cell_text(row.answers.get(question_id)) for question_id in questions]
        ))
    return out.getvalue()
