"""Free-text comments, with the higher threshold of A6 and in random order.

A comment can name its writer, so comments are shown only where at least
`min_comments` were written: for the organisation as a whole, and for a
single unit only when that unit reaches the threshold itself. As with the
tables, a unit's comments must not fall out by difference (the
organisation's list minus the other units' lists), so the units held back
are at least two, or none. Comments are never listed by group, never with
their unit in the organisation's list, and never in stored order.
"""
import random

from .comment_text import shown_comment
from .result_tables import ALL
from .result_tables import Layout
from .suppression import primary_cells
from .suppression import suppress

_shuffle = random.SystemRandom().shuffle

ORGANISATION = "organisation"


def comment_lists(layout: Layout, texts, hidden_blocks: set, min_comments: int, unit_scope=None) -> dict:
    """Per text question: {"organisation": [...] or None, "units": {"unit:ID": [...]}}."""
    by_question: dict = {}
    for unit_id, _group_id, question_id, text in texts:
        by_question.setdefault(question_id, {}).setdefault(("unit", unit_id), []).append(shown_comment(text))
    result = {}
    for question_id, by_unit in by_question.items():
        shown = shown_lists(layout, {leaf: len(by_unit.get(leaf, ())) for leaf in layout.leaves}, hidden_blocks, min_comments)
        units = {}
        for leaf in layout.leaves:
            if leaf in shown and (unit_scope is None or leaf[1] in unit_scope):
                units[f"unit:{leaf[1]}"] = shuffled(by_unit.get(leaf, []))
        everything = [text for leaf_texts in by_unit.values() for text in leaf_texts]
        result[question_id] = {
            ORGANISATION: shuffled(everything) if ORGANISATION in shown else None,
            "units": units,
        }
    return result


def shown_lists(layout: Layout, counts: dict, hidden_blocks: set, min_comments: int) -> set:
    """The leaves (and ORGANISATION) whose comment lists may be shown."""
    values = {**counts, ORGANISATION: sum(counts.values())}
    primary = primary_cells(values, min_comments)
    # A unit whose answers are hidden altogether keeps its comments too.
    primary |= {leaf for leaf in layout.leaves if (leaf, ALL) in hidden_blocks and counts[leaf]}
    equation = {ORGANISATION: -1, **{leaf: 1 for leaf in layout.leaves}}
    hidden = suppress(values, [equation], primary)
    return {key for key, count in values.items() if key not in hidden and count > 0}


def shuffled(texts: list) -> list:
    texts = list(texts)
    _shuffle(texts)
    return texts
