"""Campaign results: per question distribution and mean by unit, group and organisation (A6).

Counted in SQL on the answer side (service/answer_side/answer_data.py), laid out in
blocks (service/answer_side/result_tables.py) and protected by group
(service/answer_side/group_protection.py): a block with fewer than `min_cell` answers
shows nothing, a shown block shows its whole distribution, and complements
are hidden so no hidden figure can be worked out, with whole counts, from
everything shown. The protection is computed once over the whole campaign;
a coordinator reads a subset of that one table. Hidden figures are None and
each hidden block carries its `hidden_reason`.
"""
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import select

from flows.answers import allows_dont_know
from flows.i18n import messages
from flows.model import QuestionType
from flows.model import Survey

from . import answer_data
from .comments import comment_lists
from ..models import Campaign
from ..models import Release
from ..models import RespondentGroup
from ..models import Unit
from .group_protection import QuestionBlocks
from .group_protection import protect_blocks
from .result_tables import ALL
from .result_tables import SINGLE_VALUED
from .result_tables import ORG
from .result_tables import Layout
from .result_tables import build_layout
from .result_tables import categories
from .result_tables import cell_kinds
from .result_tables import rollup
from ..surveys import survey_of


@dataclass(frozen=True)
class Protected:
    """A campaign's layout, responses per block, the hidden blocks and why each is hidden."""

    layout: Layout
    names: dict
    responses: dict
    hidden: set
    reasons: dict = field(default_factory=dict)


def protect_campaign(session, campaign: Campaign, min_cell: int, rows: dict | None = None) -> Protected:
    """The blocks hidden in every page, export and API answer: below min_cell, held at a release, or their complements."""
    survey = survey_of(campaign.survey_version)
    counts = answer_data.response_counts(session, campaign.id)
    layout, units = _layout(session, campaign, counts)
    totals = _totals(layout, counts)
    rows = question_rows(session, campaign.id, survey) if rows is None else rows
    figures = [question_blocks(layout, totals, question, question_values(layout, question, rows[question.id]))
               for question in survey.questions]
    reasons = protect_blocks(layout, totals, figures, min_cell, held=_held(session, campaign.id))
    groups = dict(session.execute(
        select(RespondentGroup.id, RespondentGroup.name).where(RespondentGroup.organisation_id == campaign.organisation_id)
    ).all())
    unit_ids = {node[1] for node in layout.nodes if node[0] == "unit"}
    names = {("unit", unit_id): units[unit_id].name if unit_id in units else str(unit_id) for unit_id in unit_ids}
    names.update({("area", unit_id): unit.name for unit_id, unit in units.items()})
    names.update({("group", group_id): name for group_id, name in groups.items()})
    return Protected(layout, names, totals, set(reasons), reasons)


@dataclass(frozen=True)
class Snapshot:
    """What the answer side held just before a release: responses per (unit, group) and answer rows."""

    counts: list
    rows: dict


def snapshot(session, campaign: Campaign) -> Snapshot:
    """The answer side of `campaign` now, to measure what a release changes."""
    return Snapshot(answer_data.response_counts(session, campaign.id),
                    question_rows(session, campaign.id, survey_of(campaign.survey_version)))


def change_holds(session, campaign: Campaign, min_cell: int, before: Snapshot) -> list:
    """Blocks a release must hide from now on: those that gained 1 to k-1 answers since `before`, and complements (A3).

    Comparing the results before and after a release gives the change; that
    change is protected like a campaign of its own, so that it isolates no
    fewer than k answers in any group.
    """
    survey = survey_of(campaign.survey_version)
    counts = answer_data.response_counts(session, campaign.id)
    layout, _units = _layout(session, campaign, counts)
    after, earlier = _totals(layout, counts), _totals(layout, before.counts)
    gains = {block: after[block] - earlier[block] for block in after}
    rows = question_rows(session, campaign.id, survey)
    figures = []
    for question in survey.questions:
        now, then = question_values(layout, question, rows[question.id]), question_values(layout, question, before.rows[question.id])
        figures.append(question_blocks(layout, gains, question, {key: value - then[key] for key, value in now.items()}))
    return sorted((_block_json(block) for block in protect_blocks(layout, gains, figures, min_cell)), key=repr)


def _layout(session, campaign: Campaign, counts) -> tuple[Layout, dict]:
    """The campaign's unit tree and response groups, and the organisation's units by id."""
    unit_ids = {unit.id for unit in campaign.units} | {unit_id for unit_id, _g, _n in counts}
    units = {unit.id: unit for unit in session.scalars(select(Unit).where(Unit.organisation_id == campaign.organisation_id))}
    layout = build_layout(unit_ids, {unit_id: unit.parent_id for unit_id, unit in units.items()}, [g for _u, g, _n in counts])
    return layout, units


def _totals(layout: Layout, counts) -> dict:
    """Responses of every block from (unit, group, responses) rows."""
    leaf_values = {}
    for unit_id, group_id, count in counts:
        for block in layout.leaf_block(unit_id, group_id):
            leaf_values[block] = leaf_values.get(block, 0) + count
    return rollup(layout, leaf_values)


def _held(session, campaign_id: int) -> set:
    """Every block a release of the campaign held back (see change_holds)."""
    held = session.scalars(select(Release.held).where(Release.campaign_id == campaign_id, Release.held.is_not(None)))
    return {_block_of(entry) for blocks in held if blocks for entry in blocks}


def _block_json(block) -> list:
    node, column = block
    return [list(node), column if isinstance(column, str) else list(column)]


def _block_of(entry) -> tuple:
    node, column = entry
    return tuple(node), column if isinstance(column, str) else tuple(column)


def question_values(layout: Layout, question, rows) -> dict:
    """One question's figures of every block, {(block, kind): value}; rows are (unit, group, kind, count)."""
    kinds = cell_kinds(question)
    leaf_values = {(block, kind): 0 for block in layout.blocks() for kind in kinds}
    for unit_id, group_id, kind, count in rows:
        if kind in kinds:
            for block in layout.leaf_block(unit_id, group_id):
                leaf_values[(block, kind)] += count
    values = {}
    for kind in kinds:
        leaves = {block: leaf_values[(block, kind)] for block in layout.blocks() if block[0][0] == "unit"}
        values.update({(block, kind): value for block, value in rollup(layout, leaves).items()})
    return values


def question_blocks(layout: Layout, responses: dict, question, values: dict) -> QuestionBlocks:
    """The figures the integer reader's equations tie together: partitions of each block's answers."""
    kinds = cell_kinds(question)
    rest = [kind for kind in ("dont_know", "skipped") if kind in kinds] + ["absent"]
    figures = dict(values)
    for block in layout.blocks():
        # Respondents not asked the question (branching) are the answers minus its n.
        figures[(block, "absent")] = responses[block] - values[(block, "n")]
    asked = [kind for kind in ("dont_know", "skipped") if kind in kinds]
    if question.type in SINGLE_VALUED:
        distribution = [("c", category) for category in categories(question)]
        partitions = [distribution + rest]
        sums = {"answered": distribution, "n": distribution + asked}
    else:
        partitions = [["answered"] + rest]
        sums = {"n": ["answered"] + asked}
        for category in categories(question):
            # A multiple choice: each choice is chosen or not by every respondent of the block.
            for block in layout.blocks():
                figures[(block, ("not", category))] = responses[block] - values[(block, ("c", category))]
            partitions.append([("c", category), ("not", category)])
    return QuestionBlocks(partitions, figures, sums)


def question_cells(layout: Layout, question, rows, hidden_blocks: set) -> tuple[dict, set]:
    """One question's shown figures by block and the hidden ones: every figure of a hidden block."""
    values = question_values(layout, question, rows)
    hidden = {(block, kind) for block in hidden_blocks for kind in cell_kinds(question)}
    return {key: value for key, value in values.items() if key not in hidden}, hidden


def question_rows(session, campaign_id: int, survey: Survey) -> dict:
    """Per question id: (unit, group, kind, count) rows counted in SQL."""
    by_id = {question.id: question for question in survey.questions}
    rows = {question_id: [] for question_id in by_id}
    for unit_id, group_id, question_id, value_text, count in answer_data.value_counts(session, campaign_id, by_id):
        kinds = answer_data.cell_counts(by_id[question_id], answer_data.decode(value_text))
        if by_id[question_id].type == QuestionType.NUMBER and "answered" in kinds:
            # Numbers given are counted with their sum below.
            continue
        rows[question_id] += [(unit_id, group_id, kind, count * one) for kind, one in kinds.items()]
    for unit_id, group_id, question_id, count, total in answer_data.numeric_sums(session, campaign_id):
        question = by_id.get(question_id)
        if question is not None and question.type in (QuestionType.SCALE, QuestionType.NUMBER):
            rows[question_id].append((unit_id, group_id, "sum", total or 0))
            if question.type == QuestionType.NUMBER:
                rows[question_id] += [(unit_id, group_id, "answered", count), (unit_id, group_id, "n", count)]
    return rows


@dataclass(frozen=True)
class Counted:
    """A campaign's counted and protected figures before language and unit scope: what the cache keeps."""

    protected: Protected
    questions: dict
    comments: dict


def count_campaign(session, campaign: Campaign, min_cell: int, min_comments: int = 10) -> Counted:
    """The expensive part of the results: every answer counted, the suppression audit run."""
    survey = survey_of(campaign.survey_version)
    rows = question_rows(session, campaign.id, survey)
    protected = protect_campaign(session, campaign, min_cell, rows)
    questions = {
        question.id: question_cells(protected.layout, question, rows[question.id], protected.hidden)
        for question in survey.questions
    }
    texts = answer_data.text_answers(session, campaign.id, [q.id for q in survey.questions if q.type == QuestionType.TEXT])
    comments = comment_lists(protected.layout, texts, protected.hidden, min_comments)
    return Counted(protected, questions, comments)


def campaign_results(session, campaign: Campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> dict:
    """The protected results of a campaign in `language`; `unit_scope` (unit ids) narrows what is shown."""
    counted = count_campaign(session, campaign, min_cell, min_comments)
    return present(counted, campaign, language, min_cell=min_cell, min_comments=min_comments, unit_scope=unit_scope)


def present(counted: Counted, campaign: Campaign, language: str, *, min_cell: int, min_comments: int, unit_scope=None) -> dict:
    """The results document of `counted` in `language`, narrowed to `unit_scope`."""
    survey = survey_of(campaign.survey_version)
    protected = counted.protected
    layout = protected.layout
    visible = [block for block in layout.blocks() if _in_scope(layout, block[0], unit_scope)]
    words = messages(language)
    questions = []
    for question in survey.questions:
        values, hidden = counted.questions[question.id]
        questions.append({
            "id": question.id,
            "type": question.type.value,
            "text": _text(question.text, language, survey),
            "background": question.background,
            "options": _options(question, language, survey, words),
            "cells": [_cell_json(question, block, values, hidden, protected.reasons, min_cell) for block in visible],
        })
    return {
        "campaign_id": campaign.id,
        "language": language,
        "min_cell": min_cell,
        "min_comments": min_comments,
        "units": _units_json(layout, protected.names, unit_scope, words),
        "groups": [{"key": _key(group), "name": protected.names.get(group) or words.gettext("No group")} for group in layout.groups],
        "responses": [
            {"unit": _key(node), "group": _key(group),
             "count": None if (node, group) in protected.hidden else protected.responses[(node, group)],
             "hidden_reason": hidden_reason((node, group), protected.reasons, min_cell)}
            for node, group in visible
        ],
        "questions": questions,
        "comments": _scoped_comments(counted.comments, unit_scope),
    }


def _scoped_comments(comments: dict, unit_scope) -> dict:
    """The comment lists of `comments` a reader of `unit_scope` may see: the organisation's and her units'."""
    return {
        question_id: {**lists, "units": {key: texts for key, texts in lists["units"].items()
                                          if unit_scope is None or int(key.split(":")[1]) in unit_scope}}
        for question_id, lists in comments.items()
    }


def hidden_reason(block, reasons: dict, min_cell: int) -> dict | None:
    """Why `block` shows nothing, for the page, the API and the exports to say; None when it is shown."""
    reason = reasons.get(block)
    if reason is None:
        return None
    if reason.late or reason.protects is not None and getattr(reasons.get(reason.protects), "late", False):
        # Its gain since the release before would show (or the gain it protects would); no more answers can come.
        return {"kind": "late_answers", "more_needed": 0}
    if reason.protects is None:
        return {"kind": "few_answers", "answers": reason.answers, "more_needed": max(0, min_cell - reason.answers)}
    node, group = reason.protects
    return {
        "kind": "protects", "unit": _key(node), "group": _key(group),
        # More answers in the protected block would show it, and so release this one.
        "more_needed": reason.needed,
    }


def _in_scope(layout: Layout, node, unit_scope) -> bool:
    """The organisation always; a unit or area only if every unit in it is in scope."""
    if unit_scope is None or node == ORG:
        return True
    if node[0] == "unit":
        return node[1] in unit_scope
    return all(_in_scope(layout, kid, unit_scope) for kid in layout.children.get(node, ()))


def _key(node_or_group) -> str:
    if node_or_group == ALL:
        return ALL
    if node_or_group == ORG:
        return "organisation"
    kind, ident = node_or_group
    return f"{kind}:{'none' if ident is None else ident}"


def _units_json(layout: Layout, names: dict, unit_scope, words) -> list:
    shown = [node for node in layout.nodes if _in_scope(layout, node, unit_scope)]
    return [
        {
            "key": _key(node),
            "unit_id": None if node == ORG else node[1],
            "kind": "organisation" if node == ORG else node[0],
            "name": words.gettext("All units") if node == ORG else names.get(node, str(node[1])),
            "parent": _key(layout.parent[node]) if node in layout.parent else None,
        }
        for node in shown
    ]


def _cell_json(question, block, values, hidden, reasons, min_cell) -> dict:
    def shown(kind):
        key = (block, kind)
        return None if key in hidden or key not in values else values[key]

    cell = {
        "unit": _key(block[0]),
        "group": _key(block[1]),
        "suppressed": (block, "n") in hidden,
        "hidden_reason": hidden_reason(block, reasons, min_cell),
        "n": shown("n"),
        "answered": shown("answered"),
        "dont_know": shown("dont_know"),
        "skipped": shown("skipped"),
    }
    if question.type in (QuestionType.SCALE, QuestionType.NUMBER):
        total, answered = shown("sum"), shown("answered")
        cell["mean"] = round(total / answered, 2) if total is not None and answered else None
    if categories(question):
        cell["counts"] = {category: shown(("c", category)) for category in categories(question)}
    return cell


def _text(texts, language: str, survey: Survey) -> str:
    return texts.get(language) or texts.get(survey.default_language) or next(iter(texts.values()), "")


def _options(question, language, survey, words) -> list:
    """Labels of the distribution's categories in `language`."""
    if question.type == QuestionType.SCALE:
        scale = question.scale
        labels = {str(scale.min): _text(scale.low, language, survey), str(scale.max): _text(scale.high, language, survey)}
        options = [{"value": c, "label": f"{c} {labels[c]}".strip() if c in labels else c} for c in categories(question)]
    elif question.type == QuestionType.YESNO:
        options = [{"value": "yes", "label": words.gettext("Yes")}, {"value": "no", "label": words.gettext("No")}]
    else:
        # Numbers and texts have no categories; choices carry their labels.
        options = [{"value": c.id, "label": _text(c.label, language, survey)} for c in question.choices]
    if allows_dont_know(question):
        options.append({"value": "dont_know", "label": words.gettext("Don't know")})
    return options + [{"value": "skipped", "label": words.gettext("Skipped")}]
