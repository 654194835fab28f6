"""`results.Counted` as JSON holding protected figures only, for the results cache (A4).

Hidden blocks keep their keys and reasons but no value; nothing is
unpickled, so a cache entry can never run code or carry a hidden figure.
Keys are tuples in memory and lists in JSON; `_tuples` turns them back.
"""
import json

from .group_protection import Reason
from .result_tables import Layout
from .results import Counted
from .results import Protected


def dumps(counted: Counted) -> bytes:
    """The shown figures, layout, names, hidden blocks with reasons and comment lists of `counted`."""
    protected, layout = counted.protected, counted.protected.layout
    document = {
        "layout": {
            "leaves": layout.leaves,
            "children": list(layout.children.items()),
            "parent": list(layout.parent.items()),
            "groups": layout.groups,
        },
        "names": list(protected.names.items()),
        "responses": [(block, n) for block, n in protected.responses.items() if block not in protected.hidden],
        "reasons": [(block, [r.answers, r.protects, r.needed]) for block, r in protected.reasons.items()],
        "questions": [
            (question_id, [(key, value) for key, value in values.items() if key not in hidden], list(hidden))
            for question_id, (values, hidden) in counted.questions.items()
        ],
        "comments": counted.comments,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def loads(body: bytes) -> Counted:
    """The Counted that `dumps` wrote; hidden figures stay absent."""
    document = json.loads(body)
    shape = document["layout"]
    layout = Layout(
        leaves=_tuples(shape["leaves"]),
        children={_tuples(node): _tuples(kids) for node, kids in shape["children"]},
        parent={_tuples(node): _tuples(above) for node, above in shape["parent"]},
        groups=_tuples(shape["groups"]),
    )
    reasons = {
        _tuples(block): Reason(answers, None if protects is None else _tuples(protects), needed)
        for block, (answers, protects, needed) in document["reasons"]
    }
    protected = Protected(
        layout=layout,
        names={_tuples(key): name for key, name in document["names"]},
        responses={_tuples(block): n for block, n in document["responses"]},
        hidden=set(reasons),
        reasons=reasons,
    )
    questions = {
        question_id: ({_tuples(key): value for key, value in values}, {_tuples(key) for key in hidden})
        for question_id, values, hidden in document["questions"]
    }
    return Counted(protected, questions, document["comments"])


def _tuples(value):
    """JSON lists back into the tuples the tables are keyed by."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
