"""Fixtures for the pure engine tests: a small survey, a fixed clock, a replay helper."""
from datetime import datetime
from datetime import timezone

import pytest

from flows.definitions import parse_survey
from flows.engine import resume
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

SMALL_SURVEY = """\
key: small
spec_version: 1
version: 3
default_language: en
languages: [en, nb]
title: {en: Small survey, nb: Liten undersøkelse}
scales:
  five: {min: 1, max: 5, dont_know: true, low: {en: Bad, nb: Dårlig}, high: {en: Good, nb: Bra}}
questions:
  - id: service
    type: scale
    scale: five
    text: {en: "How was the service?", nb: "Hvordan var tjenesten?"}
  - id: interpreter
    type: yesno
    text: {en: "Did you use an interpreter?", nb: "Brukte du tolk?"}
  - id: interpreter_quality
    type: scale
    scale: five
    show_if: {question: interpreter, equals: "yes"}
    text: {en: "How was the interpreter?", nb: "Hvordan var tolken?"}
  - id: age_group
    type: choice
    background: true
    choices:
      - {id: young, label: {en: Under 30, nb: Under 30}}
      - {id: old, label: {en: 30 or older, nb: 30 eller eldre}}
    text: {en: "Your age?", nb: "Alderen din?"}
  - id: topics
    type: multi
    choices:
      - {id: language, label: {en: Language, nb: Språk}}
      - {id: work, label: {en: Work, nb: Arbeid}}
      - {id: housing, label: {en: Housing, nb: Bolig}}
    text: {en: "Which topics matter most?", nb: "Hvilke temaer er viktigst?"}
  - id: children
    type: number
    optional: true
    min: 0
    max: 20
    text: {en: "How many children do you have?", nb: "Hvor mange barn har du?"}
  - id: comment
    type: text
    comment: true
    optional: true
    text: {en: "Anything else?", nb: "Noe mer?"}
"""


def pytest_addoption(parser):
    parser.addoption("--update-transcripts", action="store_true", default=False, help="rewrite tests/flows/transcripts/*.yaml from the engine's output")


@pytest.fixture
def now():
    return NOW


@pytest.fixture(scope="session")
def small():
    return parse_survey(SMALL_SURVEY, "small.yaml")


@pytest.fixture
def update_transcripts(request):
    # getoption with a default: when pytest starts from the repo root this conftest is not an
    # "initial" one, so the option is only registered for `pytest tests/flows ...`.
    return request.config.getoption("--update-transcripts", default=False)


def say(survey, state, *texts, max_attempts=3):
    """Send messages in turn; return the last Sprint."""
    sprint = None
    for text in texts:
        sprint = resume(survey, state, Inbound(InboundKind.MESSAGE, text), NOW, max_attempts=max_attempts)
        state = sprint.state
    return sprint


def started(survey, language="en", **flags):
    """A conversation that has just been started."""
    return say(survey, State(language=language, **flags), "hello").state
