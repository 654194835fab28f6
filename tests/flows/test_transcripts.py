"""Golden transcripts: whole conversations replayed against the bundled surveys.

Each tests/flows/transcripts/*.yaml names a survey and a language and lists
steps, each an inbound message (`in`) or a timed inbound (`kind: reminder`
or `kind: expire`), with the texts the engine sends back and the events it
records. Change the engine's words on purpose, then regenerate and review:

    .venv/bin/pytest tests/flows/test_transcripts.py --update-transcripts
"""
from pathlib import Path

import pytest
import yaml

from flows.definitions import bundled_survey
from flows.engine import resume
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State

from .conftest import NOW

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks, so a diff of a transcript reads like the SMS."""


def _text(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def replay(script: dict) -> dict:
    """Run a transcript's inputs through the engine; return it with actual outputs filled in."""
    survey = bundled_survey(script["survey"])
    state = State(language=script["language"], **script.get("state", {}))
    steps = []
    for step in script["steps"]:
        if "in" in step:
            # YAML reads an unquoted `no` as False and `4.` as 4.0: inputs must be quoted texts.
            assert isinstance(step["in"], str), f"quote the input {step['in']!r}"
            inbound = Inbound(InboundKind.MESSAGE, step["in"])
            head = {"in": step["in"]}
        else:
            inbound = Inbound(InboundKind(step["kind"]))
            head = {"kind": step["kind"]}
        sprint = resume(survey, state, inbound, NOW)
        state = sprint.state
        steps.append({
            **head,
            "out": [o.text for o in sprint.outbound],
            "events": [e.type.value + (f" {e.question_id}" if e.question_id else "") for e in sprint.events],
        })
    result = {"survey": script["survey"], "language": script["language"]}
    if script.get("state"):
        result["state"] = script["state"]
    result["steps"] = steps
    result["status"] = state.status.value
    result["answers"] = dict(state.answers)
    return result


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript(path, update_transcripts):
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    actual = replay(script)
    if update_transcripts:
        path.write_text(yaml.dump(actual, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
        return
    assert actual == script, f"{path.name} differs; if the change is intended, rerun with --update-transcripts and review the diff"


def test_there_are_enough_transcripts():
    assert len(TRANSCRIPTS) >= 4
