"""An integer attacker of published results: bounds every hidden figure with scipy's milp.

It reads results documents (any role's, any number: they are one campaign's
published figures) and the progress counts (the answers of every leaf
block). Per question it builds an integer program: each leaf block's
distribution (categories, don't know, skipped, not asked) as non-negative
integer variables summing to the leaf's answers, every published count as an
equality over the leaves of its block, every published mean with its
rounding as two inequalities. Then it minimises and maximises each figure
the documents hide. A figure is pinned when min == max, except where the
value is 0 (nobody in the block gave that answer) or a shown block containing
it is unanimous in that category (which that shown block publishes anyway).
"""
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds
from scipy.optimize import LinearConstraint
from scipy.optimize import milp

from service.answer_data import response_counts

MEAN_ROUNDING = 0.005 + 1e-7
SINGLE_VALUED = ("scale", "choice", "yesno")


@dataclass(frozen=True)
class Pin:
    """A hidden figure the attacker recovered."""

    question: str
    unit: str
    group: str
    figure: str
    value: int


def leaf_counts(session, campaign_id: int, grouped: bool) -> dict:
    """What the live progress page tells: the answers of each (unit, group) leaf block."""
    counts: dict = {}
    for unit_id, group_id, n in response_counts(session, campaign_id):
        key = (f"unit:{unit_id}", f"group:{'none' if group_id is None else group_id}" if grouped else "all")
        counts[key] = counts.get(key, 0) + n
    return counts


def attack(documents: list[dict], leaves: dict, questions=None) -> list[Pin]:
    """Every hidden figure of `documents` that whole, non-negative counts pin (beyond the exceptions)."""
    structure = documents[0]
    members = _members(structure, leaves)
    pins = []
    for question in structure["questions"]:
        if questions is None or question["id"] in questions:
            pins += _attack_question(question["id"], documents, members, leaves)
    return pins


def _members(document: dict, leaves: dict) -> dict:
    """Per (unit key, group key) block: the leaf blocks it adds up."""
    parents = {unit["key"]: unit["parent"] for unit in document["units"]}

    def under(unit_key, node):
        while unit_key is not None:
            if unit_key == node:
                return True
            unit_key = parents.get(unit_key)
        return False

    columns = ["all"] + [group["key"] for group in document["groups"]]
    return {
        (node, column): [leaf for leaf in leaves if under(leaf[0], node) and column in ("all", leaf[1])]
        for node in parents for column in columns
    }


def _attack_question(question_id, documents, members, leaves) -> list[Pin]:
    cells = [(doc, next(q for q in doc["questions"] if q["id"] == question_id)) for doc in documents]
    question = cells[0][1]
    categories = list((question["cells"][0].get("counts") or {}).keys())
    single = question["type"] in SINGLE_VALUED
    has_dont_know = any(option["value"] == "dont_know" for option in question["options"])
    parts = ([("c", c) for c in categories] if single else ["answered"]) + (["dont_know"] if has_dont_know else [])
    parts += ["skipped", "absent"]
    leaf_list = sorted(leaves)
    index = {(leaf, part): i for i, (leaf, part) in enumerate((leaf, part) for leaf in leaf_list for part in parts)}
    size = len(index)
    rows, low, high = [], [], []

    def add(coefficients: dict, lo, hi):
        row = np.zeros(size)
        for key, coefficient in coefficients.items():
            row[index[key]] += coefficient
        rows.append(row), low.append(lo), high.append(hi)

    def figure(block, name) -> dict:
        """The figure `name` of `block` as {variable: coefficient}."""
        chosen = {"answered": [("c", c) for c in categories] if single else ["answered"],
                  "n": [p for p in parts if p != "absent"]}.get(name, [name])
        return {(leaf, part): 1 for leaf in members[block] for part in chosen}

    for leaf in leaf_list:
        add({(leaf, part): 1 for part in parts}, leaves[leaf], leaves[leaf])
    hidden, shown = [], {}
    for _doc, published in cells:
        for cell in published["cells"]:
            block = (cell["unit"], cell["group"])
            if block not in members:
                continue
            names = {"n": cell.get("n"), "answered": cell.get("answered"), "skipped": cell.get("skipped")}
            if has_dont_know:
                names["dont_know"] = cell.get("dont_know")
            for category, value in (cell.get("counts") or {}).items():
                names[("c", category)] = value if single else None
            for name, value in names.items():
                if value is None:
                    hidden.append((block, name))
                else:
                    shown[(block, name)] = value
                    add(figure(block, name), value, value)
            if cell.get("mean") is not None and question["type"] == "scale":
                mean = cell["mean"]
                # sum / answered within the rounding of the published mean.
                add({(leaf, ("c", c)): int(c) - mean - MEAN_ROUNDING for leaf in members[block] for c in categories}, -np.inf, 0)
                add({(leaf, ("c", c)): int(c) - mean + MEAN_ROUNDING for leaf in members[block] for c in categories}, 0, np.inf)
    unique = {}
    for row, lo, hi in zip(rows, low, high):
        # Each role's document repeats the figures of the blocks it shares with the others.
        unique.setdefault((row.tobytes(), lo, hi), row)
    constraints = LinearConstraint(np.array(list(unique.values())), [key[1] for key in unique], [key[2] for key in unique])
    bounds = Bounds(np.zeros(size), np.array([leaves[leaf] for leaf in leaf_list for _part in parts], dtype=float))
    integrality = np.ones(size)
    objectives = {}
    for block, name in sorted(set(hidden), key=repr):
        objective = np.zeros(size)
        for key, coefficient in figure(block, name).items():
            objective[index[key]] = coefficient
        objectives[(block, name)] = objective
    seen = {target: set() for target in objectives}

    def solve(objective):
        result = milp(objective, constraints=constraints, bounds=bounds, integrality=integrality)
        assert result.success, (question_id, result.message)
        # Every solution is a world consistent with all that was read: each figure's value in it is possible.
        for target, other in objectives.items():
            seen[target].add(round(float(other @ result.x)))

    pins = []
    for target, objective in objectives.items():
        # A figure that took two values in the worlds found so far is not pinned; else push it both ways.
        if len(seen[target]) < 2:
            solve(-objective)
        if len(seen[target]) < 2:
            solve(objective)
        if len(seen[target]) > 1:
            continue
        block, name = target
        value = next(iter(seen[target]))
        if value == 0 or _unanimous_container(block, name, shown, members):
            continue
        pins.append(Pin(question_id, block[0], block[1], str(name), value))
    return pins


def _unanimous_container(block, name, shown: dict, members: dict) -> bool:
    """A shown block that contains `block` and whose every answer is `name`."""
    inner = set(members[block])
    for (other, figure_name), value in shown.items():
        if figure_name == name and inner <= set(members[other]) and value > 0 and shown.get((other, "n")) == value:
            return True
    return False
