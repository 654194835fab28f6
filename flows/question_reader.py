"""Reading one question of a survey file: its type and keys, texts in every language, scale, choices and show_if."""
import yaml

from flows.model import DONT_KNOW
from flows.model import Choice
from flows.model import Condition
from flows.model import Question
from flows.model import QuestionType
from flows.model import Scale
from flows.yamlreader import ID as _ID
from flows.yamlreader import NodeReader

_QUESTION = {"id", "type", "text", "scale", "choices", "optional", "background", "comment", "dont_know", "min", "max", "show_if"}
_SHOW_IF = {"question", "in", "equals", "not_in"}
# Keys each type may carry beyond the common ones (id, type, text, optional, background, show_if).
_BY_TYPE = {
    QuestionType.SCALE: {"scale"},
    QuestionType.CHOICE: {"choices", "dont_know"},
    QuestionType.MULTI: {"choices", "dont_know"},
    QuestionType.YESNO: {"dont_know"},
    QuestionType.NUMBER: {"min", "max"},
    QuestionType.TEXT: {"comment"},
}


class QuestionReader(NodeReader):
    """The question-level half of the survey reader; texts need the survey's languages."""

    def __init__(self, filename: str, loader: yaml.SafeLoader):
        super().__init__(filename, loader)
        self.languages: tuple[str, ...] = ()

    def texts(self, node, what: str) -> dict:
        """A text in every listed language; a missing translation is an error."""
        entries = self.mapping(node, what, allowed=None)
        if entries is None:
            return {}
        texts = {}
        for language, (key_node, value_node) in entries.items():
            if language not in self.languages:
                self.problem(key_node, f"{what} has text in '{language}', which is not in languages")
                continue
            text = self.raw(value_node, f"{what} in '{language}'")
            if text is not None:
                texts[language] = text.strip()
        for language in self.languages:
            if language not in entries:
                self.problem(node, f"{what} has no '{language}' translation")
        return texts

    def question(self, node, index: int, scales: dict, earlier: list, everywhere: dict, seen: set) -> Question | None:
        # Name the question by its id from the start, even in problems about its other keys.
        written = next((v.value for k, v in getattr(node, "value", []) if getattr(k, "value", None) == "id" and isinstance(v, yaml.ScalarNode)), "")
        fields = self.mapping(node, f"question '{written}'" if _ID.fullmatch(written) else f"question {index}", _QUESTION, {"id", "type", "text"})
        if fields is None:
            return None
        qid = self.identifier(fields["id"][1], f"question {index} id") if "id" in fields else None
        what = f"question '{qid}'" if qid else f"question {index}"
        if qid is not None:
            if qid in seen:
                self.problem(fields["id"][1], f"{what} is defined twice (ids must be unique)")
            seen.add(qid)
        kind = None
        if "type" in fields:
            raw_type = self.raw(fields["type"][1], f"{what} type")
            try:
                kind = QuestionType(raw_type) if raw_type else None
            except ValueError:
                names = ", ".join(t.value for t in QuestionType)
                self.problem(fields["type"][1], f"{what} has unknown type '{raw_type}' (use {names})")
        text = self.texts(fields["text"][1], f"{what} text") if "text" in fields else {}
        flag = lambda key: self.boolean(fields[key][1], f"{what} {key}") if key in fields else False  # noqa: E731
        optional, background, comment, dont_know = flag("optional"), flag("background"), flag("comment"), flag("dont_know")
        if kind is None:
            return None
        for key in sorted(fields.keys() & (_QUESTION - _BY_TYPE[kind] - {"id", "type", "text", "optional", "background", "show_if"})):
            reason = " (set dont_know on the scale)" if key == "dont_know" and kind == QuestionType.SCALE else ""
            self.problem(fields[key][0], f"{what} of type {kind.value} cannot have '{key}'{reason}")
        scale = self.scale_ref(fields, what, scales) if kind == QuestionType.SCALE else None
        choices = self.choices(fields, what) if kind in (QuestionType.CHOICE, QuestionType.MULTI) else ()
        low = self.number(fields["min"][1], f"{what} min") if kind == QuestionType.NUMBER and "min" in fields else None
        high = self.number(fields["max"][1], f"{what} max") if kind == QuestionType.NUMBER and "max" in fields else None
        if low is not None and high is not None and low >= high:
            self.problem(node, f"{what} has min {low} not below max {high}")
        show_if = self.show_if(fields["show_if"][1], what, qid, earlier, everywhere) if "show_if" in fields else None
        return Question(
            id=qid,
            type=kind,
            text=text,
            scale=scale,
            choices=choices,
            optional=optional,
            background=background,
            comment=comment and kind == QuestionType.TEXT,
            dont_know=dont_know and QuestionType.SCALE != kind,
            min=low,
            max=high,
            show_if=show_if,
        )

    def scale_ref(self, fields: dict, what: str, scales: dict) -> Scale | None:
        if "scale" not in fields:
            self.problem(fields["type"][1], f"{what} of type scale needs 'scale' (the name of a scale)")
            return None
        name = self.raw(fields["scale"][1], f"{what} scale")
        if name is not None and name not in scales:
            self.problem(fields["scale"][1], f"{what} uses unknown scale '{name}'")
        return scales.get(name)

    def choices(self, fields: dict, what: str) -> tuple[Choice, ...]:
        if "choices" not in fields:
            self.problem(fields["type"][1], f"{what} needs 'choices'")
            return ()
        items = self.sequence(fields["choices"][1], f"{what} choices")
        if isinstance(fields["choices"][1], yaml.SequenceNode) and len(items) < 2:
            self.problem(fields["choices"][1], f"{what} needs at least two choices")
        choices, ids = [], set()
        for index, item in enumerate(items, 1):
            entry = self.mapping(item, f"{what} choice {index}", {"id", "label"}, {"id", "label"})
            if entry is None or not {"id", "label"} <= entry.keys():
                continue
            cid = self.identifier(entry["id"][1], f"{what} choice {index} id")
            if cid is None:
                continue
            if cid in ids:
                self.problem(entry["id"][1], f"{what} has choice '{cid}' twice")
            ids.add(cid)
            choices.append(Choice(id=cid, label=self.texts(entry["label"][1], f"{what} choice '{cid}' label")))
        return tuple(choices)

    def show_if(self, node, what: str, qid: str | None, earlier: list, everywhere: dict) -> Condition | None:
        fields = self.mapping(node, f"{what} show_if", _SHOW_IF, {"question"})
        if fields is None or "question" not in fields:
            return None
        tests = [k for k in ("in", "equals", "not_in") if k in fields]
        if len(tests) != 1:
            self.problem(node, f"{what} show_if needs exactly one of 'in', 'equals' or 'not_in'")
            return None
        target_id = self.raw(fields["question"][1], f"{what} show_if question")
        target = next((q for q in earlier if q.id == target_id), None)
        if target is None:
            if target_id == qid:
                self.problem(fields["question"][1], f"{what} has show_if on itself")
            elif target_id in everywhere:
                self.problem(fields["question"][1], f"{what} has show_if on later question '{target_id}' (it must come before)")
            else:
                self.problem(fields["question"][1], f"{what} has show_if on unknown question '{target_id}'")
            return None
        test = tests[0]
        value_node = fields[test][1]
        items = [value_node] if test == "equals" else self.sequence(value_node, f"{what} show_if {test}")
        values = tuple(v for v in (self.condition_value(item, what, target) for item in items) if v is not None)
        if len(values) != len(items) or not values:
            if not items:
                self.problem(value_node, f"{what} show_if {test} lists no values")
            return None
        return Condition(question=target.id, values=values, negate=test == "not_in")

    def condition_value(self, node, what: str, target: Question):
        """A show_if value checked against what `target` can actually be answered with."""
        raw = self.raw(node, f"{what} show_if value")
        if raw is None:
            return None
        if raw == DONT_KNOW:
            return raw
        if target.type == QuestionType.SCALE and target.scale is not None:
            value = self.integer(node, f"{what} show_if value")
            if value is not None and not target.scale.min <= value <= target.scale.max:
                self.problem(node, f"{what} show_if value {value} is outside the scale of '{target.id}'")
                return None
            return value
        if target.type == QuestionType.NUMBER:
            return self.number(node, f"{what} show_if value")
        if target.type == QuestionType.TEXT:
            self.problem(node, f"{what} has show_if on text question '{target.id}'")
            return None
        allowed = ("yes", "no") if target.type == QuestionType.YESNO else tuple(c.id for c in target.choices)
        if raw not in allowed:
            self.problem(node, f"{what} show_if value '{raw}' is not an answer to '{target.id}' (use {', '.join(allowed)})")
            return None
        return raw
