"""Small-cell protection (A6): primary and complementary suppression over linear relations.

A published table is a set of cells (hashable keys with non-negative values)
tied by linear equations the reader knows: a total is the sum of its parts, a
sum of scale values is the weighted sum of the distribution. Primary cells
(fewer than k behind them) are hidden; then complementary cells are hidden
until no hidden cell can be worked out from the shown ones:

1. No equation may have exactly one hidden cell (it would fall out by
   subtraction); the cheapest other cell of that equation is hidden too.
2. An audit solves all equations at once (Gaussian elimination restricted to
   hidden cells) and, for every hidden cell the system still pins down,
   hides one more cell of an equation it is in, or, when those are all
   hidden, of the nearest equation along the chain that still shows one.

Both steps only ever add hidden cells, so the loop ends. A hidden cell that
is 0 may be recoverable (an empty cell reveals no one); no other may.
Protection is against exact recovery; the sign of counts (never negative)
may still bound a hidden cell, as in any published table.

The elimination works modulo a 61-bit prime rather than in fractions: ten
times faster, and equal to exact arithmetic unless the prime divides a minor
of the (small-integer) equations, which for tables of this size does not
happen in practice.
"""
from typing import Callable
from typing import Hashable
from typing import Iterable
from typing import Mapping

# An equation is {cell: coefficient}; the weighted values of its cells sum to zero.
Equation = Mapping[Hashable, int]
PRIME = (1 << 61) - 1


def primary_cells(values: Mapping[Hashable, float], k: int, keys: Iterable[Hashable] | None = None) -> set:
    """Cells with 1 to k-1 behind them; an empty cell reveals no one and stays shown."""
    candidates = values.keys() if keys is None else keys
    return {key for key in candidates if 0 < values[key] < k}


def suppress(
    values: Mapping[Hashable, float],
    equations: list[Equation],
    primary: Iterable[Hashable],
    cost: Callable[[Hashable], int] = lambda key: 0,
) -> set:
    """The hidden cells: `primary` plus complements so none can be derived."""
    hidden = set(primary)
    by_cell: dict = {}
    for index, equation in enumerate(equations):
        for key in equation:
            by_cell.setdefault(key, []).append(index)

    def cheapest(candidates):
        # Prefer cheap kinds of cell, then non-empty ones (an empty cell hides
        # little), then the smallest: the least information lost.
        return min(candidates, key=lambda key: (cost(key), values[key] == 0, values[key], repr(key)))

    while True:
        _close_single_gaps(values, equations, hidden, cheapest)
        leaks = [key for key in determined(values, equations, hidden) if values[key] != 0]
        added = set()
        for key in sorted(leaks, key=repr):
            candidates = _nearest_shown(key, equations, by_cell, hidden)
            if candidates and not added & set(candidates):
                added.add(cheapest(candidates))
        if not added:
            return hidden
        hidden |= added


def _nearest_shown(key, equations: list[Equation], by_cell: dict, hidden: set) -> list:
    """The shown cells of the equations nearest to `key`: its own, else those reached through hidden cells.

    A cell can be pinned down by a chain of equations whose cells next to it
    are all hidden already (a hidden sum worked out from shown totals, then
    the distribution from the sum); one more cell of its own equations cannot
    be hidden then, so one further along the chain is.
    """
    seen_cells, seen_equations, frontier = {key}, set(), [key]
    while frontier:
        shown, further = [], []
        for cell in frontier:
            for index in by_cell.get(cell, ()):
                if index in seen_equations:
                    continue
                seen_equations.add(index)
                for other, coefficient in equations[index].items():
                    if coefficient != 0 and other not in seen_cells:
                        seen_cells.add(other)
                        (further if other in hidden else shown).append(other)
        if shown:
            return shown
        frontier = further
    return []


def _close_single_gaps(values, equations, hidden, cheapest):
    """Rule 1: until no equation has exactly one hidden cell."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            members = [key for key, coefficient in equation.items() if coefficient != 0]
            gaps = [key for key in members if key in hidden]
            if len(gaps) == 1 and values[gaps[0]] != 0:
                shown = [key for key in members if key not in hidden]
                if shown:
                    hidden.add(cheapest(shown))
                    changed = True


def determined(values: Mapping[Hashable, float], equations: list[Equation], hidden: set) -> set:
    """Hidden cells whose value follows from the shown cells and the equations."""
    pivots: dict = {}  # pivot cell -> row {cell: coefficient mod PRIME}; reduced echelon form
    holders: dict = {}  # cell -> pivot cells whose row mentions it
    for equation in equations:
        row = {key: c % PRIME for key, c in equation.items() if key in hidden and c % PRIME}
        if not row:
            continue
        for key in [key for key in row if key in pivots]:
            factor = row.get(key)
            if factor:
                _subtract(row, pivots[key], factor)
        if not row:
            continue
        pivot = min(row, key=lambda key: len(holders.get(key, ())))
        inverse = pow(row[pivot], PRIME - 2, PRIME)
        row = {key: coefficient * inverse % PRIME for key, coefficient in row.items()}
        # Keep every other pivot row free of the new pivot cell.
        for other_pivot in list(holders.get(pivot, ())):
            other_row = pivots[other_pivot]
            factor = other_row.get(pivot)
            if not factor:
                continue
            before = set(other_row)
            _subtract(other_row, row, factor)
            for key in set(other_row) - before:
                holders.setdefault(key, set()).add(other_pivot)
            for key in before - set(other_row):
                holders.get(key, set()).discard(other_pivot)
        pivots[pivot] = row
        for key in row:
            holders.setdefault(key, set()).add(pivot)
    return {pivot for pivot, row in pivots.items() if len(row) == 1}


def _subtract(row: dict, other: dict, factor: int):
    """row -= factor * other, modulo PRIME, dropping zeros."""
    for key, coefficient in other.items():
        updated = (row.get(key, 0) - factor * coefficient) % PRIME
        if updated:
            row[key] = updated
        else:
            row.pop(key, None)
