"""Group-level protection (A6) as properties: no hidden group can be worked out from the shown ones."""
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flows.model import Choice
from flows.model import Question
from flows.model import QuestionType
from flows.model import Scale
from service.answer_side.comments import ORGANISATION
from service.answer_side.comments import shown_lists
from service.answer_side.result_tables import ALL
from service.answer_side.result_tables import ORG
from service.answer_side.result_tables import block_equations
from service.answer_side.result_tables import build_layout
from service.answer_side.result_tables import rollup
from service.answer_side.group_protection import protect_blocks
from service.answer_side.results import question_blocks
from service.answer_side.results import question_cells
from service.answer_side.results import question_values
from service.answer_side.suppression import primary_cells
from service.answer_side.suppression import suppress

SCALE = Question(id="q", type=QuestionType.SCALE, text={"en": "q"}, scale=Scale(min=1, max=4, dont_know=True))
CHOICE = Question(id="c", type=QuestionType.CHOICE, text={"en": "c"}, choices=(Choice("a", {}), Choice("b", {}), Choice("c", {})))
MULTI = Question(id="m", type=QuestionType.MULTI, text={"en": "m"}, choices=(Choice("a", {}), Choice("b", {})))
P = (1 << 61) - 1  # a prime far above any coefficient or count here


def recovered_by_subtraction(values, equations, hidden) -> set:
    """What a reader gets by solving, again and again, any equation with one unknown."""
    known = {key for key in values if key not in hidden}
    progress = True
    while progress:
        progress = False
        for equation in equations:
            unknown = [key for key, c in equation.items() if c and key not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                progress = True
    return {key for key in hidden if key in known}


def pinned_by_linear_algebra(values, equations, hidden) -> set:
    """An independent oracle: hidden cells whose unit vector lies in the row space (dense, mod P)."""
    columns = sorted(hidden, key=repr)
    index = {key: i for i, key in enumerate(columns)}
    rows = [[0] * len(columns) for _ in equations]
    for row, equation in zip(rows, equations):
        for key, c in equation.items():
            if key in index:
                row[index[key]] = c % P
    basis = []  # (pivot column, row) in echelon form
    for row in rows:
        row = _reduce(row, basis)
        pivot = next((i for i, v in enumerate(row) if v), None)
        if pivot is not None:
            inverse = pow(row[pivot], P - 2, P)
            basis.append((pivot, [v * inverse % P for v in row]))
    pinned = set()
    for key, i in index.items():
        unit = [0] * len(columns)
        unit[i] = 1
        if not any(_reduce(unit, basis)):
            pinned.add(key)
    return pinned


def _reduce(row, basis):
    row = list(row)
    for pivot, base in basis:
        if row[pivot]:
            factor = row[pivot]
            row = [(v - factor * b) % P for v, b in zip(row, base)]
    return row


tables = st.fixed_dictionaries({
    "leaves": st.integers(1, 4),
    "areas": st.lists(st.integers(0, 1), min_size=4, max_size=4),
    "groups": st.sampled_from([[None], [1, 2], [1, 2, None]]),
    "k": st.integers(2, 6),
    "question": st.sampled_from([SCALE, CHOICE, MULTI]),
    "seed": st.lists(st.integers(0, 12), min_size=200, max_size=200),
})


def _answers(spec):
    """Answer rows (unit, group, kind, count) drawn from the spec's seed counts."""
    from service.answer_side.answer_data import cell_counts

    question = spec["question"]
    values = {"q": [1, 2, 3, 4, "dont_know", None], "c": ["a", "b", "c", None], "m": [["a"], ["b"], ["a", "b"], None]}[question.id]
    seed = iter(spec["seed"])
    rows = []
    for unit_id in range(1, spec["leaves"] + 1):
        for group_id in spec["groups"]:
            for value in values:
                count = next(seed) // 3 if next(seed) % 3 else 0
                rows += [(unit_id, group_id, kind, count * one) for kind, one in cell_counts(question, value).items()]
    return rows


def _layout(spec):
    parent_of = {unit_id: 100 + spec["areas"][unit_id - 1] for unit_id in range(1, spec["leaves"] + 1)}
    return build_layout(parent_of.keys(), {**parent_of, 100: None, 101: None}, spec["groups"])


# Found by a long run: unit 2's one answer in group 1 was pinned down through hidden sums worked out
# from shown totals, while every equation next to it was already hidden.
CHAIN_THROUGH_HIDDEN_SUMS = {
    "leaves": 3, "areas": [1, 0, 1, 0], "groups": [1, 2], "k": 4, "question": SCALE,
    "seed": [0, 1, 9, 0, 1, 0, 1, 0, 1, 0, 1, 6, 1, 3, 1, 0, 1, 3, 0, 0, 0, 1, 0, 1, 0, 1, 3, 0, 0, 0, 1, 0, 1, 6,
             0, 1, 0, 1, 6, 0, 0, 0, 0, 0, 1, 3] + [0] * 154,
}


def _protected(spec):
    """The layout, responses per block, one question's figures and the hidden blocks of a spec."""
    layout, question = _layout(spec), spec["question"]
    rows = _answers(spec)
    leaf_n = {}
    for unit_id, group_id, kind, count in rows:
        if kind == "n":
            for block in layout.leaf_block(unit_id, group_id):
                leaf_n[block] = leaf_n.get(block, 0) + count
    responses = rollup(layout, leaf_n)
    figures = question_blocks(layout, responses, question, question_values(layout, question, rows))
    return layout, responses, figures, protect_blocks(layout, responses, [figures], spec["k"])


@settings(max_examples=150, deadline=None)
@given(tables)
@example(CHAIN_THROUGH_HIDDEN_SUMS)
def test_no_hidden_group_can_be_worked_out_from_the_shown_ones(spec):
    layout, responses, _figures, reasons = _protected(spec)
    k = spec["k"]
    # Every group below k is hidden whole, and says so.
    for block, n in responses.items():
        if 0 < n < k:
            assert reasons[block].protects is None and reasons[block].answers == n
    # No hidden group is a combination of shown ones (an independent dense oracle).
    equations = block_equations(layout, lambda block: block)
    hidden = {block for block in reasons if responses[block]}
    assert not pinned_by_linear_algebra(responses, equations, hidden)
    assert not recovered_by_subtraction(responses, equations, hidden)
    # A complement names a block below k that it protects; none is empty (an empty block protects nobody).
    for block, reason in reasons.items():
        assert responses[block] > 0
        if reason.protects is not None:
            assert 0 < responses[reason.protects] < k and reason.needed == k - responses[reason.protects]


@settings(max_examples=150, deadline=None)
@given(tables)
def test_responses_per_block_hide_small_units_and_groups_with_complements(spec):
    layout, k = _layout(spec), spec["k"]
    counts = {}
    for unit_id, group_id, kind, count in _answers(spec):
        if kind == "n":
            for block in layout.leaf_block(unit_id, group_id):
                counts[block] = counts.get(block, 0) + count
    totals = rollup(layout, counts)
    equations = block_equations(layout, lambda block: block)
    hidden = suppress(totals, equations, primary_cells(totals, k))
    assert primary_cells(totals, k) <= hidden
    nonzero = {key for key in hidden if totals[key]}
    assert not recovered_by_subtraction(totals, equations, hidden) & nonzero
    assert not pinned_by_linear_algebra(totals, equations, hidden) & nonzero


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 25), min_size=1, max_size=6), st.integers(2, 12))
def test_comment_lists_never_fall_out_by_difference(counts, minimum):
    layout = build_layout(range(1, len(counts) + 1), {}, [None])
    by_leaf = {("unit", i + 1): count for i, count in enumerate(counts)}
    shown = shown_lists(layout, by_leaf, set(), minimum)
    assert all(by_leaf[leaf] >= minimum for leaf in shown if leaf != ORGANISATION)
    if ORGANISATION in shown:
        assert sum(counts) >= minimum
        held_back = [leaf for leaf, count in by_leaf.items() if count and leaf not in shown]
        assert len(held_back) != 1, "one unit's comments would be the organisation's list minus the others"


def test_one_small_unit_takes_its_smallest_sibling_along():
    layout = build_layout([1, 2, 3], {}, [None])
    totals = rollup(layout, {(("unit", 1), ALL): 3, (("unit", 2), ALL): 40, (("unit", 3), ALL): 12})
    hidden = suppress(totals, block_equations(layout, lambda block: block), primary_cells(totals, 5))
    assert hidden == {(("unit", 1), ALL), (("unit", 3), ALL)}
    assert (ORG, ALL) not in hidden


def test_a_shown_group_shows_its_whole_distribution_even_with_small_values():
    layout = build_layout([1], {}, [None])
    rows = [(1, None, "n", 20), (1, None, "answered", 20), (1, None, "skipped", 0), (1, None, "dont_know", 0)]
    rows += [(1, None, ("c", "1"), 2), (1, None, ("c", "2"), 5), (1, None, ("c", "3"), 6), (1, None, ("c", "4"), 7)]
    rows.append((1, None, "sum", 2 + 10 + 18 + 28))
    values, hidden = question_cells(layout, SCALE, rows, set())
    org = (ORG, ALL)
    # The unit of protection is the group (A6): a category with 2 answers is not a cell to hide.
    assert not hidden and values[(org, ("c", "1"))] == 2 and values[(org, "sum")] == 58
