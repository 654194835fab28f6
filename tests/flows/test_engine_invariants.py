"""Engine invariants under any inbound sequence, on a survey with every question type: answers are always
valid for their question, states stay valid, STOP always ends; parsers never raise and agree with themselves.
"""
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flows import answers
from flows.definitions import bundled_survey
from flows.definitions import parse_survey
from flows.engine import resume
from flows.model import DONT_KNOW
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import QuestionType
from flows.model import State
from flows.model import Status

from .conftest import NOW
from .conftest import SMALL_SURVEY

SURVEYS = [parse_survey(SMALL_SURVEY, "small.yaml"), bundled_survey("introduction-programme")]
LANGUAGES = ["en", "nb", "ar", "ti", "fa_AF", "uk"]
STOPS = ["STOP", "stop", " Stopp ", "AVSLUTT"]

# Digits in several scripts, words that steer, and noise.
typed = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["1", "2", "5", "6", "0", "21", "-3", "2,5", "1,3", "1 2", "ja", "nei", "yes", "no", "dk", "vet ikke", "?",
         "-", "hjelp", "SPRÅK", "/language", "٣", "۵", "５", "3️⃣", "፪", "language work", "under 30", "😀", "x" * 1200]
    ),
)
step = st.one_of(
    typed.map(lambda text: Inbound(InboundKind.MESSAGE, text)),
    st.just(Inbound(InboundKind.REMINDER)),
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_answer(question, value) -> bool:
    """What the answer side may hold for this question."""
    if value is None:
        # Skipped, or given up on after max_attempts: recorded as no answer, never trapping anyone.
        return True
    if value == DONT_KNOW:
        return answers.allows_dont_know(question)
    ids = [choice.id for choice in question.choices]
    if question.type == QuestionType.SCALE:
        return isinstance(value, int) and question.scale.min <= value <= question.scale.max
    if question.type == QuestionType.CHOICE:
        return value in ids
    if question.type == QuestionType.MULTI:
        return isinstance(value, list) and value and len(set(value)) == len(value) and set(value) <= set(ids)
    if question.type == QuestionType.YESNO:
        return value in ("yes", "no")
    if question.type == QuestionType.NUMBER:
        low = question.min if question.min is not None else float("-inf")
        high = question.max if question.max is not None else float("inf")
        return isinstance(value, (int, float)) and low <= value <= high
    return isinstance(value, str) and 0 < len(value) <= answers.MAX_TEXT and value == value.strip()


def run(survey, language, inbounds):
    """Every (before, inbound, sprint) of a conversation fed these inbounds."""
    state = State(language=language)
    for inbound in inbounds:
        sprint = resume(survey, state, inbound, NOW)
        yield state, inbound, sprint
        state = sprint.state


@PROPERTY
@given(survey=st.sampled_from(SURVEYS), language=st.sampled_from(LANGUAGES), inbounds=st.lists(step, max_size=40))
def test_any_sequence_keeps_answers_valid_for_their_question_types(survey, language, inbounds):
    for _before, _inbound, sprint in run(survey, language, inbounds):
        state = sprint.state
        for question_id, value in state.answers.items():
            assert valid_answer(survey.question(question_id), value), (question_id, value)
        assert (state.position is None) == (state.status != Status.ACTIVE)
        assert state.status != Status.ACTIVE or not state.answers or state.position not in state.answers
        assert state == State.from_dict(state.to_dict())


@PROPERTY
@given(
    survey=st.sampled_from(SURVEYS),
    language=st.sampled_from(LANGUAGES),
    inbounds=st.lists(step, max_size=25),
    stop=st.sampled_from(STOPS),
    after=st.lists(step, max_size=5),
)
def test_stop_always_ends_and_nothing_afterwards_reopens(survey, language, inbounds, stop, after):
    state = State(language=language)
    for _before, _inbound, sprint in run(survey, language, inbounds):
        state = sprint.state
    sprint = resume(survey, state, Inbound(InboundKind.MESSAGE, stop), NOW)
    if state.status in (Status.COMPLETED, Status.OPTED_OUT):
        # Already over: STOP changes nothing (a completed survey keeps its answers).
        assert sprint.state == state
        return
    ended = sprint.state
    assert ended.status == Status.OPTED_OUT and ended.answers == {} and ended.position is None
    assert sprint.outbound, "a STOP is always confirmed"
    for inbound in after:
        assert resume(survey, ended, inbound, NOW).state == ended


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60), language=st.sampled_from(LANGUAGES), survey=st.sampled_from(SURVEYS))
def test_parsers_never_raise_and_only_accept_valid_answers(text, language, survey):
    for question in survey.questions:
        parsed = answers.parse(question, text, language)
        if parsed.ok:
            assert valid_answer(question, parsed.value), (question.id, text, parsed.value)
        else:
            assert parsed.hint


@settings(max_examples=200, deadline=None)
@given(value=st.integers(min_value=1, max_value=5), pad=st.sampled_from(["", " ", "  ", ".", "!", " (", ")"]))
def test_scale_digits_in_any_script_and_padding_mean_the_same(value, pad):
    question = SURVEYS[0].question("service")
    for written in (str(value), chr(0x0660 + value), chr(0x06F0 + value), chr(0xFF10 + value), f"{value}\ufe0f\u20e3"):
        assert answers.parse(question, pad + written + pad.strip(), "en").value == value
