"""The shape of published results: blocks of units x groups, their cells and equations.

A block is (node, group): a node is a campaign unit, an area above several of
them (from the unit hierarchy) or the whole organisation; a group is a
respondent group or ALL. Every figure shown is a cell of a block, and the
equations here are everything a reader knows ties them together: a parent is
the sum of its children, ALL the sum of the groups, a question's asked count
the sum of answered, don't know and skipped, a distribution sums to its
answered count and a scale's sum of values is the weighted distribution.
"""
from dataclasses import dataclass
from typing import Hashable
from typing import Mapping

from flows.answers import allows_dont_know
from flows.model import Question
from flows.model import QuestionType

from .suppression import Equation

ORG = ("org",)
ALL = "all"
SINGLE_VALUED = (QuestionType.SCALE, QuestionType.CHOICE, QuestionType.YESNO)
WITH_SUM = (QuestionType.SCALE, QuestionType.NUMBER)


@dataclass(frozen=True)
class Layout:
    """Unit nodes as a tree under ORG and the group columns (none when there is one group)."""

    leaves: tuple
    children: Mapping[tuple, tuple]
    parent: Mapping[tuple, tuple]
    groups: tuple

    @property
    def nodes(self) -> tuple:
        return (ORG, *[node for node in self.children if node != ORG], *self.leaves)

    @property
    def columns(self) -> tuple:
        return (ALL, *self.groups)

    def blocks(self) -> list[tuple]:
        return [(node, group) for node in self.nodes for group in self.columns]

    def leaf_block(self, unit_id: int, group_id) -> list[tuple]:
        """The finest blocks an answer of this unit and group is counted in."""
        leaf = ("unit", unit_id)
        group = ("group", group_id)
        return [(leaf, ALL), (leaf, group)] if group in self.groups else [(leaf, ALL)]


def build_layout(unit_ids, parent_of: Mapping[int, int | None], group_ids) -> Layout:
    """The tree of a campaign's units: areas only where they join two or more nodes."""
    leaves = tuple(("unit", unit_id) for unit_id in sorted(set(unit_ids)))
    raw_children: dict = {}
    for unit_id in sorted(set(unit_ids)):
        node, above = ("unit", unit_id), parent_of.get(unit_id)
        seen = {unit_id}
        while above is not None and above not in seen:
            seen.add(above)
            raw_children.setdefault(("area", above), set()).add(node)
            node, above = ("area", above), parent_of.get(above)
        raw_children.setdefault(ORG, set()).add(node)
    # A campaign unit that is also above other campaign units: its own answers
    # are one more child of its area.
    for area in list(raw_children):
        if area != ORG and ("unit", area[1]) in leaves:
            raw_children[area].add(("unit", area[1]))

    def collapse(node):
        # An area with a single child would repeat that child's figures.
        while node in raw_children and node != ORG and len(raw_children[node]) == 1:
            node = next(iter(raw_children[node]))
        return node

    children, parent = {}, {}
    pending = [ORG]
    while pending:
        node = pending.pop()
        kids = tuple(sorted({collapse(kid) for kid in raw_children.get(node, ())}))
        if node != ORG and node[0] == "unit":
            continue
        children[node] = kids
        for kid in kids:
            parent[kid] = node
            if kid[0] == "area":
                pending.append(kid)
    distinct = sorted({group_id for group_id in group_ids}, key=lambda g: (g is None, g or 0))
    groups = tuple(("group", group_id) for group_id in distinct) if len(distinct) > 1 else ()
    return Layout(leaves=leaves, children=children, parent=parent, groups=groups)


def rollup(layout: Layout, leaf_values: Mapping[tuple, float]) -> dict:
    """Totals of every block from values at leaf blocks, {(leaf, column): value}."""
    totals = {block: 0 for block in layout.blocks()}
    for (leaf, column), value in leaf_values.items():
        node = leaf
        while True:
            totals[(node, column)] += value
            if node == ORG:
                break
            node = layout.parent[node]
    return totals


def block_equations(layout: Layout, cell) -> list[Equation]:
    """Parent = sum of children in every column; ALL = sum of groups at every node."""
    equations = []
    for node, kids in layout.children.items():
        for column in layout.columns:
            equation = {cell((node, column)): -1}
            equation.update({cell((kid, column)): 1 for kid in kids})
            equations.append(equation)
    if layout.groups:
        for node in layout.nodes:
            equation = {cell((node, ALL)): -1}
            equation.update({cell((node, group)): 1 for group in layout.groups})
            equations.append(equation)
    return equations


def categories(question: Question) -> list[str]:
    """The values a distribution of `question` is counted in, in display order."""
    if question.type == QuestionType.SCALE:
        return [str(value) for value in range(question.scale.min, question.scale.max + 1)]
    if question.type in (QuestionType.CHOICE, QuestionType.MULTI):
        return [choice.id for choice in question.choices]
    if question.type == QuestionType.YESNO:
        return ["yes", "no"]
    return []


def cell_kinds(question: Question) -> list[Hashable]:
    """The cells of one block for `question`: counts, the distribution and the sum of values."""
    kinds = ["n", "answered", "skipped"]
    if allows_dont_know(question):
        kinds.append("dont_know")
    kinds += [("c", category) for category in categories(question)]
    if question.type in WITH_SUM:
        kinds.append("sum")
    return kinds


def question_equations(layout: Layout, question: Question) -> list[Equation]:
    """Every equation between the cells of one question's table."""
    kinds = cell_kinds(question)
    equations = []
    for kind in kinds:
        equations += block_equations(layout, lambda block, kind=kind: (block, kind))
    for block in layout.blocks():
        parts = {(block, "answered"): 1, (block, "skipped"): 1}
        if "dont_know" in kinds:
            parts[(block, "dont_know")] = 1
        equations.append({(block, "n"): -1, **parts})
        if question.type in SINGLE_VALUED:
            equations.append({(block, "answered"): -1, **{(block, ("c", c)): 1 for c in categories(question)}})
        if question.type == QuestionType.SCALE:
            equations.append({(block, "sum"): -1, **{(block, ("c", c)): int(c) for c in categories(question)}})
    return equations


# Complements are taken from the distribution first, the headline figures last.
_COST = {"n": 3, "answered": 2, "sum": 2}


def cell_cost(key) -> int:
    return _COST.get(key[1], 0) if isinstance(key[1], str) else 0
