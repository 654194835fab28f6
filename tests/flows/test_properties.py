"""Whatever people type, resume() never raises and the state stays coherent."""
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flows.definitions import bundled_survey
from flows.engine import resume
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.model import Status

from .conftest import NOW

SURVEY = bundled_survey("introduction-programme")
IDS = {q.id for q in SURVEY.questions}

# Random text plus the words that steer a conversation, so branches are actually reached.
typed = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["1", "3", "6", "ja", "nei", "yes", "no", "vet ikke", "dk", "?", "hjelp", "-", "STOP", "1,3", "٥", "5️⃣", "", "SPRÅK", "/language", "اللغة", "12", "dansk", "፫", "👍"]),
)
inbound = st.one_of(
    typed.map(lambda text: Inbound(InboundKind.MESSAGE, text)),
    st.just(Inbound(InboundKind.REMINDER)),
    st.just(Inbound(InboundKind.EXPIRE)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    language=st.sampled_from(["nb", "en", "nn", "ar", "ti", "fa_AF", "xx"]),
    skip_background=st.booleans(),
    skip_comments=st.booleans(),
    inbounds=st.lists(inbound, max_size=40),
)
def test_resume_never_raises_and_state_holds(language, skip_background, skip_comments, inbounds):
    state = State(language=language, skip_background=skip_background, skip_comments=skip_comments)
    for message in inbounds:
        sprint = resume(SURVEY, state, message, NOW)
        new = sprint.state
        assert set(new.answers) <= IDS
        assert (new.position is None) == (new.status != Status.ACTIVE)
        assert new.position is None or new.position in IDS
        assert 0 <= new.attempts < 3
        assert all(o.text for o in sprint.outbound)
        if new.language_menu is not None and message.kind == InboundKind.MESSAGE:
            # SPRÅK, LANGUAGE ... open the menu; the question waits, with its answers kept.
            assert sprint.outbound[-1].options and set(new.answers) >= set(state.answers)
        elif new.status == Status.ACTIVE and message.kind == InboundKind.MESSAGE:
            # An active conversation always ends a turn by asking its current question.
            assert sprint.outbound[-1].question_id == new.position
        if state.status in (Status.COMPLETED, Status.OPTED_OUT):
            assert new == state
        if skip_background:
            assert not any(SURVEY.question(q).background for q in new.answers)
        assert new == State.from_dict(new.to_dict())
        state = new
