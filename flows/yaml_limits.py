"""What a survey file may not hold, checked before it is parsed: size, NUL bytes, tags, aliases, depth.

The parser is PyYAML's safe one, but a hostile file can still make it
recurse past Python's stack (deep nesting), expand aliases without end, or
carry tags meant for other loaders; each is refused with file, line, reason.
"""
import yaml

from flows.yamlreader import Problem
from flows.yamlreader import SurveyError

# The largest bundled survey is under 30 kB; a megabyte leaves room for any real one.
MAX_BYTES = 1_000_000
# A survey nests six levels deep at most (questions > question > choices > choice > label > text).
MAX_DEPTH = 20

_OPENING = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def refuse_too_large(size: int, filename: str) -> None:
    """SurveyError when a file of `size` bytes is larger than any survey."""
    if size > MAX_BYTES:
        raise SurveyError([Problem(filename, 1, f"the file is {size} bytes, more than the {MAX_BYTES} a survey may have")])


def refuse_unsafe_yaml(text: str, filename: str) -> None:
    """SurveyError naming the first NUL byte, tag, anchor or alias, or too deep nesting in `text`."""
    refuse_too_large(len(text.encode("utf-8", "surrogatepass")), filename)
    nul = text.find("\x00")
    if nul >= 0:
        raise SurveyError([Problem(filename, text.count("\n", 0, nul) + 1, "the file contains a NUL byte")])
    depth = 0
    try:
        # The scanner works without recursion, so it is safe to run on any text.
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            line = token.start_mark.line + 1
            if isinstance(token, yaml.TagToken):
                raise SurveyError([Problem(filename, line, "YAML tags (such as !!python/object or !tag) are not allowed in a survey")])
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                raise SurveyError([Problem(filename, line, "YAML anchors and aliases (&name, *name) are not allowed in a survey")])
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SurveyError([Problem(filename, line, f"the file nests deeper than {MAX_DEPTH} levels")])
            elif isinstance(token, _CLOSING):
                depth -= 1
    except yaml.MarkedYAMLError:
        # Broken YAML is reported by the parser, with its own words and line.
        return
    except yaml.YAMLError:
        return
