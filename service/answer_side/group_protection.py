"""Group-level protection (A6): which blocks of respondents a campaign's results may show, and why not.

The unit of protection is a block (node x group column). A block with 1 to
k-1 answers shows none of its figures, nor does a block a release held back
(it gained 1 to k-1 answers since the release before: results.change_holds);
a shown block shows its whole distribution. The reader is assumed to know every shown figure, the number
of answers of every leaf block (the live progress counts) and that counts
are whole and never negative. Complements are hidden until, for every
question, no figure of a hidden block can be worked out:

1. Linearly: no hidden block may be a combination of shown blocks (the
   modular elimination of `suppression.determined` over the block
   equations). A block with no answers is known to be empty and never
   counts as protection.
2. With whole, non-negative counts: interval bounds are propagated through
   every equation (a parent is the sum of its children, ALL the sum of the
   groups, a block's categories sum to its answers) to a fixed point; a
   hidden figure whose bounds meet is pinned. This catches what the linear
   audit cannot, such as two hidden siblings whose union is unanimous.

A pinned figure is accepted in two cases only, both of which disclose no
more than the shown figures do of everyone they cover: it is 0 (nobody in
the block gave that answer, which reveals no respondent's answer), or a
shown block containing it is unanimous in that category (a shown group
publishes that all of its members answered so). Complements are
non-empty blocks next to the pinned one: a group's block before a unit's
total, then the smallest, so the least information is lost; against a bounds
pin, the candidate that leaves no block to fall out by subtraction (which
would start a cascade of complements) and frees most, then the smallest. Every hidden block records its reason: its own answers below k, or
the block it protects (and so how many answers that one lacks).
"""
from dataclasses import dataclass
from dataclasses import field
from typing import Iterable
from typing import Mapping

from .result_tables import ALL
from .result_tables import ORG
from .result_tables import Layout
from .result_tables import block_equations
from .suppression import _nearest_shown
from .suppression import determined

# Bounds settle in a few passes on campaign tables; the cap only guards against a slow crawl.
PASSES = 60
# Complements tried for a pinned block, cheapest first: enough to find one that frees it.
CANDIDATES = 6


@dataclass(frozen=True)
class Reason:
    """Why a block is hidden: its own answers below k, or the block it protects."""

    answers: int
    protects: tuple | None = None
    needed: int = 0
    # Held at a release because it gained 1 to k-1 answers since the one before (or protects such a gain).
    late: bool = False


@dataclass(frozen=True)
class QuestionBlocks:
    """One question's figures per block: partitions (categories that sum to n) and other counts."""

    partitions: list  # [[category, ...]]: each list sums to the block's answers
    values: Mapping  # (block, category) -> count, every block
    # Published figures that are sums of categories, {name: [category, ...]}: the answered and asked counts.
    sums: Mapping = field(default_factory=dict)


def protect_blocks(layout: Layout, answers: Mapping[tuple, int], questions: list[QuestionBlocks], k: int,
                   held: Iterable = ()) -> dict:
    """{hidden block: Reason}: blocks below k, the `held` ones and their complements, safe against the integer reader."""
    hidden = {block: Reason(answers[block], late=True) for block in held if answers.get(block, 0) > 0}
    hidden.update({block: Reason(n) for block, n in answers.items() if 0 < n < k})
    equations = block_equations(layout, lambda block: block)
    by_block: dict = {}
    for index, equation in enumerate(equations):
        for block in equation:
            by_block.setdefault(block, []).append(index)
    contains = _containment(layout)
    while True:
        nonempty = {block for block in hidden if answers[block] > 0}
        pinned = sorted(determined(answers, equations, nonempty), key=repr)
        question = None
        if not pinned:
            for question in questions:
                pinned = _pinned_by_bounds(answers, question, set(hidden), equations, contains)
                if pinned:
                    break
        if not pinned:
            return hidden
        block = pinned[0]
        candidates = sorted((c for c in _nearest_shown(block, equations, by_block, set(hidden)) if answers[c] > 0),
                            key=_cost(answers))
        if not candidates:
            # Only empty blocks next to it: any shown block with answers, cheapest first.
            candidates = sorted((c for c in answers if c not in hidden and answers[c] > 0), key=_cost(answers))
        if not candidates:
            return hidden
        rectangle = _rectangle(layout, answers, block, set(hidden)) if question is None else []
        if rectangle:
            root = _root(hidden, block)
            for complement in rectangle:
                hidden[complement] = Reason(answers[complement], protects=root, needed=max(0, k - answers[root]))
            continue
        if question is not None:
            # Of the nearest candidates: no new block falling out by subtraction, most of this question's
            # pinned blocks freed, the fewest answers hidden, then the cheapest kind.
            complement = min(candidates[:CANDIDATES], key=lambda c: _price(
                answers, question, {*hidden, c}, equations, contains) + (answers[c], candidates.index(c)))
        else:
            complement = candidates[0]
        root = _root(hidden, block)
        hidden[complement] = Reason(answers[complement], protects=root, needed=max(0, k - answers[root]))


def _price(answers, question: QuestionBlocks, hidden: set, equations, contains) -> tuple:
    """(whether some hidden block falls out by subtraction, how many stay pinned by bounds) after hiding `hidden`."""
    # A lone hidden block in a line needs a further complement, and that one often another: a cascade.
    linear = bool(determined(answers, equations, {block for block in hidden if answers[block] > 0}))
    return linear, len(_pinned_by_bounds(answers, question, hidden, equations, contains))


def _rectangle(layout: Layout, answers: Mapping, block, hidden: set) -> list:
    """For a group's block: another group of its node and both groups of a sibling node, the cheapest such.

    A hidden block alone in its row (node) or column (group) falls out by
    subtraction, and hiding along one line only moves the problem; four
    corners of a rectangle share every row and column equation in pairs.
    """
    node, group = block
    if group == ALL or node not in layout.parent:
        return []
    cost = _cost(answers)
    others = [(node, g) for g in layout.groups if g != group and answers[(node, g)] > 0]
    siblings = [kid for kid in layout.children[layout.parent[node]] if kid != node and answers[(kid, group)] > 0]
    best = None
    for partner in others:
        for sibling in siblings:
            corners = [partner, (sibling, group), (sibling, partner[1])]
            if answers[corners[2]] == 0:
                continue
            price = sum(answers[c] for c in corners if c not in hidden)
            if best is None or (price, [cost(c) for c in corners]) < best[0]:
                best = ((price, [cost(c) for c in corners]), corners)
    return [] if best is None else [c for c in best[1] if c not in hidden]


def _cost(answers: Mapping):
    """Hide a group's block before a unit's total (readers want those most), then the smallest."""
    return lambda block: (block[1] == ALL, block[0] == ORG, answers[block], repr(block))


def _root(hidden: dict, block) -> tuple:
    """The block below k that a chain of complements protects."""
    seen = set()
    while hidden[block].protects is not None and block not in seen:
        seen.add(block)
        block = hidden[block].protects
    return block


def _containment(layout: Layout) -> dict:
    """Per block, the blocks that contain all of its respondents (itself included)."""
    ancestors = {}
    for node in layout.nodes:
        chain, current = [node], node
        while current in layout.parent:
            current = layout.parent[current]
            chain.append(current)
        ancestors[node] = chain
    return {
        (node, column): [(above, c) for above in ancestors[node] for c in {column, ALL}]
        for node, column in layout.blocks()
    }


def _pinned_by_bounds(answers, question: QuestionBlocks, hidden: set, equations, contains) -> list:
    """Hidden blocks with a figure of `question` that whole, non-negative counts pin to one value (not excused)."""
    pinned = set()
    categories = sorted({category for part in question.partitions for category in part}, key=repr)
    # A sum of categories can be pinned while each of its parts is not, or is pinned only at 0 (excused):
    # a hidden block whose every member answered shows its 'answered' count through the skipped ones.
    categories += sorted(set(question.sums) - set(categories), key=repr)
    low = {(b, c): 0 for b in hidden for c in categories}
    high = {(b, c): answers[b] for b in hidden for c in categories}
    rows = []
    for category in categories:
        for equation in equations:
            rows.append(_row({(b, category): coefficient for b, coefficient in equation.items()}, 0, hidden, question))
    for block in hidden:
        for part in question.partitions:
            rows.append(_row({(block, c): 1 for c in part}, answers[block], hidden, question))
        for name, parts in question.sums.items():
            rows.append(_row({(block, name): -1, **{(block, c): 1 for c in parts}}, 0, hidden, question))
    _propagate([row for row in rows if row[0]], low, high)
    for (block, category), lo in low.items():
        if lo != high[(block, category)] or lo == 0:
            continue
        unanimous = any(
            other not in hidden and answers[other] > 0 and question.values[(other, category)] == answers[other]
            for other in contains[block]
        )
        if not unanimous:
            pinned.add(block)
    return sorted(pinned, key=repr)


def _row(equation: dict, constant: int, hidden: set, question: QuestionBlocks) -> tuple[dict, int]:
    """An equation sum(coefficient x) = constant over hidden figures, shown ones moved to the constant."""
    terms = {}
    for (block, category), coefficient in equation.items():
        if block in hidden:
            terms[(block, category)] = coefficient
        else:
            constant -= coefficient * question.values[(block, category)]
    return terms, constant


def _propagate(rows: list, low: dict, high: dict):
    """Tighten integer bounds through every row until nothing changes."""
    for _ in range(PASSES):
        changed = False
        for terms, constant in rows:
            least = sum(c * (low[v] if c > 0 else high[v]) for v, c in terms.items())
            most = sum(c * (high[v] if c > 0 else low[v]) for v, c in terms.items())
            for variable, c in terms.items():
                # c x = constant - (the rest); the rest lies in [least - own least, most - own most].
                own_least = c * (low[variable] if c > 0 else high[variable])
                own_most = c * (high[variable] if c > 0 else low[variable])
                rest_least, rest_most = least - own_least, most - own_most
                if c > 0:
                    new_low, new_high = -(-(constant - rest_most) // c), (constant - rest_least) // c
                else:
                    new_low, new_high = -(-(rest_least - constant) // -c), (rest_most - constant) // -c
                if new_low > low[variable]:
                    low[variable], changed = new_low, True
                if new_high < high[variable]:
                    high[variable], changed = new_high, True
        if not changed:
            return
