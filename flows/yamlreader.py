"""Reading composed YAML nodes with line numbers, and the problems found on the way."""
import difflib
import re
from dataclasses import dataclass

import yaml

ID = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a survey file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class SurveyError(Exception):
    """A survey file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n".join(str(p) for p in self.problems))


def _line(node) -> int:
    return node.start_mark.line + 1


class NodeReader:
    """Typed access to composed YAML nodes; problems are collected, never raised."""

    def __init__(self, filename: str, loader: yaml.SafeLoader):
        self.filename = filename
        self.loader = loader
        self.problems: list[Problem] = []

    def problem(self, node, message: str) -> None:
        self.problems.append(Problem(self.filename, _line(node), message))

    def mapping(self, node, what: str, allowed: set, required: set = frozenset()) -> dict | None:
        """{key: (key node, value node)}, reporting duplicates, typos and gaps."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        found = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{what} has a key that is not a plain name")
            elif key in found:
                self.problem(key_node, f"{what} has '{key}' twice")
            elif allowed is not None and key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(key_node, f"{what} has unknown key '{key}'{suggestion}")
            else:
                found[key] = (key_node, value_node)
        for key in sorted(required - found.keys()):
            self.problem(node, f"{what} is missing '{key}'")
        return found

    def sequence(self, node, what: str) -> list:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def raw(self, node, what: str) -> str | None:
        """A scalar exactly as written."""
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            self.problem(node, f"{what} must be a non-empty text")
            return None
        return node.value

    def value(self, node):
        return self.loader.construct_object(node, deep=True)

    def integer(self, node, what: str) -> int | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(node, f"{what} must be a whole number")
            return None
        return value

    def number(self, node, what: str) -> float | None:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(node, f"{what} must be a number")
            return None
        return value

    def boolean(self, node, what: str) -> bool:
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.problem(node, f"{what} must be true or false")
            return False
        return value

    def identifier(self, node, what: str, pattern=ID) -> str | None:
        value = self.raw(node, what)
        if value is not None and not pattern.fullmatch(value):
            self.problem(node, f"{what} '{value}' may only use {'a-z, 0-9 and _' if pattern is ID else 'a-z, 0-9, _ and -'}")
            return None
        return value
