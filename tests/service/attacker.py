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
import csv
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

import numpy as np
from scipy.optimize import Bounds
from scipy.optimize import LinearConstraint
from scipy.optimize import milp

from service.answer_side.answer_data import response_counts
from service.answer_side.exports import ExportRow
from service.answer_side.exports import coarsen
from service.answer_side.exports import label
from service.answer_side.results import protect_campaign

MEAN_ROUNDING = 0.005 + 1e-7
SINGLE_VALUED = ("scale", "choice", "yesno")
# Export cells that are not a category: a question skipped or not asked, and a value blanked for anonymity.
EMPTY, BLANKED = "", "*"


@dataclass(frozen=True)
class Pin:
    """A hidden figure the attacker recovered."""

    question: str
    unit: str
    group: str
    figure: str
    value: int
    release: int = 0


def leaf_counts(session, campaign_id: int, grouped: bool) -> dict:
    """What the live progress page tells: the answers of each (unit, group) leaf block."""
    counts: dict = {}
    for unit_id, group_id, n in response_counts(session, campaign_id):
        key = (f"unit:{unit_id}", f"group:{'none' if group_id is None else group_id}" if grouped else "all")
        counts[key] = counts.get(key, 0) + n
    return counts


@dataclass
class Reading:
    """What one role read at one release: results documents, the progress counts and export buckets."""

    documents: list
    leaves: dict  # answers per (unit key, group key) leaf block, as the progress counts tell
    exports: list = field(default_factory=list)  # [{"leaves": [leaf, ...], "rows": n, "values": {question: Counter}}]


def attack(documents: list[dict], leaves: dict, questions=None) -> list[Pin]:
    """Every hidden figure of `documents` that whole, non-negative counts pin (beyond the exceptions)."""
    return attack_readings([Reading(documents, leaves)], questions)


def attack_readings(readings: list[Reading], questions=None, k: int = 5) -> list[Pin]:
    """Pins over readings of successive releases: hidden figures of any release, and any release's
    change in a block that gained 1 to k-1 answers (the answers of those few)."""
    structure = readings[-1].documents[0]
    leaves = {leaf for reading in readings for leaf in reading.leaves}
    # The unit tree as any reading drew it: a release may leave out a node another one showed.
    units = {unit["key"]: unit for reading in readings for document in reading.documents for unit in document["units"]}
    members = _members({**structure, "units": list(units.values())}, leaves)
    pins = []
    for question in structure["questions"]:
        if questions is None or question["id"] in questions:
            pins += _attack_question(question["id"], readings, members, sorted(leaves), k)
    return pins


def export_buckets(csv_text: str, labels: dict) -> list[dict]:
    """The CSV export's rows per (unit, group) label as bucket observations; `labels` maps a label to its leaves."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    buckets: dict = {}
    for row in reader:
        bucket = buckets.setdefault((row["unit"], row["group"]), {"leaves": labels[(row["unit"], row["group"])],
                                                                 "rows": 0, "values": {}})
        bucket["rows"] += 1
        for name, value in row.items():
            if name not in FIXED:
                # An empty cell is a question skipped or not asked; "*" is blanked for anonymity (any value).
                bucket["values"].setdefault(name, Counter())[_CSV_VALUE.get(value, value)] += 1
    return list(buckets.values())


def flow_results_buckets(archive: bytes, labels: dict) -> list[dict]:
    """The Flow Results package's responses per (unit, group) label; a question left out is unknown."""
    with zipfile.ZipFile(io.BytesIO(archive)) as package:
        data = json.loads(package.read("responses.json"))
    contacts: dict = {}
    for _stamp, _row, contact, _session, question_id, response, metadata in data:
        entry = contacts.setdefault(contact, ((metadata["unit"], metadata["group"]), {}))
        entry[1][question_id] = response
    buckets: dict = {}
    for label, answers in contacts.values():
        bucket = buckets.setdefault(label, {"leaves": labels[label], "rows": 0, "values": {}})
        bucket["rows"] += 1
        for question_id, response in answers.items():
            bucket["values"].setdefault(question_id, Counter())[str(response)] += 1
    return list(buckets.values())


FIXED = {"row_id", "campaign_id", "unit", "group", "language", "complete"}
_CSV_VALUE = {"": EMPTY, "*": BLANKED}


def export_labels(session, campaign, k: int, grouped: bool) -> dict:
    """Per (unit, group) label of the exports: the leaf blocks behind it, replaying the public coarsening rule
    on the progress counts and the hidden blocks the results publish."""
    protected = protect_campaign(session, campaign, k)
    rows, leaf_of = [], {}
    for unit_id, group_id, n in response_counts(session, campaign.id):
        leaf = (f"unit:{unit_id}", f"group:{'none' if group_id is None else group_id}" if grouped else "all")
        for _ in range(n):
            row = ExportRow(node=("unit", unit_id), group=("group", group_id), language="", complete=True, answers={})
            rows.append(row)
            leaf_of[id(row)] = leaf
    labels: dict = {}
    for row in coarsen(rows, protected, k):
        labels.setdefault((label(protected, row.node), label(protected, row.group)), set()).add(leaf_of[id(row)])
    return {key: sorted(value) for key, value in labels.items()}


def _members(document: dict, leaves) -> dict:
    """Per (unit key, group key) block: the leaf blocks it adds up."""
    parents = {unit["key"]: unit["parent"] for unit in document["units"]}

    def under(unit_key, node):
        while unit_key is not None:
            if unit_key == node:
                return True
            # A node the reader's documents leave out (an area above her units) is still under the organisation.
            unit_key = parents.get(unit_key, "organisation") if unit_key != "organisation" else None
        return False

    columns = ["all"] + [group["key"] for group in document["groups"]]
    return {
        (node, column): [leaf for leaf in sorted(leaves) if under(leaf[0], node) and column in ("all", leaf[1])]
        for node in parents for column in columns
    }


def _attack_question(question_id, readings, members, leaf_list, k) -> list[Pin]:
    structure = next(q for q in readings[-1].documents[0]["questions"] if q["id"] == question_id)
    categories = list((structure["cells"][0].get("counts") or {}).keys())
    single = structure["type"] in SINGLE_VALUED
    has_dont_know = any(option["value"] == "dont_know" for option in structure["options"])
    parts = ([("c", c) for c in categories] if single else ["answered"]) + (["dont_know"] if has_dont_know else [])
    parts += ["skipped", "absent"]
    releases = range(len(readings))
    # One set of variables per release: the answers that release added to each leaf.
    keys = [(r, leaf, part) for r in releases for leaf in leaf_list for part in parts]
    index = {key: i for i, key in enumerate(keys)}
    size = len(index)
    added = [{leaf: reading.leaves.get(leaf, 0) - (readings[r - 1].leaves.get(leaf, 0) if r else 0) for leaf in leaf_list}
             for r, reading in enumerate(readings)]
    assert all(n >= 0 for gained in added for n in gained.values()), "progress counts never fall"
    unique: dict = {}

    def add(coefficients: dict, lo, hi):
        row = np.zeros(size)
        for key, coefficient in coefficients.items():
            row[index[key]] += coefficient
        # Each role's document repeats the figures of the blocks it shares with the others.
        unique.setdefault((row.tobytes(), lo, hi), row)

    def chosen(name) -> list:
        return {"answered": [("c", c) for c in categories] if single else ["answered"],
                "n": [p for p in parts if p != "absent"]}.get(name, [name])

    def figure(block, name, release, since=0) -> dict:
        """The figure `name` of `block` at `release` (or what releases since..release added) as {variable: 1}."""
        return {(r, leaf, part): 1 for r in range(since, release + 1) for leaf in members[block] for part in chosen(name)}

    for r in releases:
        for leaf in leaf_list:
            add({(r, leaf, part): 1 for part in parts}, added[r][leaf], added[r][leaf])
    hidden, shown = [], {}
    for r, reading in enumerate(readings):
        for doc in reading.documents:
            published = next(q for q in doc["questions"] if q["id"] == question_id)
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
                        hidden.append((r, block, name))
                    else:
                        shown[(r, block, name)] = value
                        add(figure(block, name, r), value, value)
                if cell.get("mean") is not None and structure["type"] == "scale":
                    mean = cell["mean"]
                    # sum / answered within the rounding of the published mean.
                    terms = [(i, leaf, ("c", c)) for i in range(r + 1) for leaf in members[block] for c in categories]
                    add({key: int(key[2][1]) - mean - MEAN_ROUNDING for key in terms}, -np.inf, 0)
                    add({key: int(key[2][1]) - mean + MEAN_ROUNDING for key in terms}, 0, np.inf)
        for bucket in reading.exports:
            counted = (bucket["values"].get(question_id) or Counter()) if single else Counter()
            classes = {}
            for value, count in counted.items():
                part = ("c", value) if value in categories else value
                if part in parts:
                    classes[(part,)] = count
                elif value == EMPTY:
                    classes[("skipped", "absent")] = count
            # A row whose value is blanked or left out could hold any part.
            unknown = bucket["rows"] - sum(classes.values())
            for group_of_parts, count in classes.items():
                add({(i, leaf, part): 1 for i in range(r + 1) for leaf in bucket["leaves"] for part in group_of_parts},
                    count, count + unknown)
    constraints = LinearConstraint(np.array(list(unique.values())), [key[1] for key in unique], [key[2] for key in unique])
    bounds = Bounds(np.zeros(size), np.array([added[r][leaf] for r, leaf, _part in keys], dtype=float))
    integrality = np.ones(size)
    objectives = {}
    for r, block, name in sorted(set(hidden), key=repr):
        objectives[(r, block, name)] = _vector(figure(block, name, r), index, size)
    for r in releases[1:]:
        for block, inside in members.items():
            if 0 < sum(added[r][leaf] for leaf in inside) < k:
                # A few answers that one release added: comparing it with the one before must not isolate them.
                for name in ["n", "answered", "skipped"] + (["dont_know"] if has_dont_know else []) + \
                        ([("c", c) for c in categories] if single else []):
                    objectives[(r, block, ("added", name))] = _vector(figure(block, name, r, since=r), index, size)
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
        r, block, name = target
        value = next(iter(seen[target]))
        if value == 0 or (not isinstance(name, tuple) or name[0] != "added") and \
                _unanimous_container(block, name, {key[1:]: v for key, v in shown.items() if key[0] == r}, members):
            continue
        pins.append(Pin(question_id, block[0], block[1], str(name), value, r))
    return pins


def _vector(coefficients: dict, index: dict, size: int):
    vector = np.zeros(size)
    for key, coefficient in coefficients.items():
        vector[index[key]] = coefficient
    return vector


def _unanimous_container(block, name, shown: dict, members: dict) -> bool:
    """A shown block that contains `block` and whose every answer is `name`."""
    inner = set(members[block])
    for (other, figure_name), value in shown.items():
        if figure_name == name and inner <= set(members[other]) and value > 0 and shown.get((other, "n")) == value:
            return True
    return False
