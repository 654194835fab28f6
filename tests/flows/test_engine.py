"""resume(): the conversation semantics the service relies on."""
from datetime import datetime

import pytest

from flows.engine import resume
from flows.model import DONT_KNOW
from flows.model import EventType
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.model import Status

from .conftest import NOW
from .conftest import say
from .conftest import started

# Answers that walk the small survey to its end, interpreter included.
FULL_RUN = ["4", "yes", "5", "1", "1,3", "2", "Thanks"]


def events(sprint):
    return [(e.type, e.question_id) for e in sprint.events]


def remind(survey, state):
    return resume(survey, state, Inbound(InboundKind.REMINDER), NOW)


def test_first_message_starts_with_intro_and_first_question_in_one_outbound(small):
    sprint = say(small, State(language="en"), "ABCD-EFGH")
    assert sprint.state.status == Status.ACTIVE
    assert sprint.state.position == "service"
    assert events(sprint) == [(EventType.STARTED, None)]
    [outbound] = sprint.outbound
    assert outbound.question_id == "service"
    welcome, question = outbound.text.split("\n", 1)
    assert "Small survey" in welcome and "7 questions" in welcome and "anonymous" in welcome and "STOP" in welcome
    assert question == "1/7 How was the service?\n1 = Bad, 5 = Good. Reply 1-5 or 'don't know'."
    assert [o.reply for o in outbound.options] == ["1", "2", "3", "4", "5", "don't know"]
    assert outbound.options[0].label == "1 - Bad"


def test_survey_intro_replaces_the_generic_welcome():
    from flows.definitions import bundled_survey

    survey = bundled_survey("introduction-programme")
    sprint = say(survey, State(language="nb"), "hei")
    assert sprint.outbound[0].text.startswith(survey.intro["nb"] + "\n1/17 ")


@pytest.mark.parametrize("word", ["STOP", "stopp", "Avmeld.", "unsubscribe"])
def test_stop_as_first_message_opts_out(small, word):
    sprint = say(small, State(language="en"), word)
    assert sprint.state.status == Status.OPTED_OUT
    assert events(sprint) == [(EventType.OPTED_OUT, None)]
    assert "opted out" in sprint.outbound[0].text


def test_help_before_starting_stays_new(small):
    sprint = say(small, State(language="en"), "help")
    assert sprint.state.status == Status.NEW
    assert events(sprint) == [(EventType.HELP, None)]
    assert "Small survey" in sprint.outbound[0].text and "STOP" in sprint.outbound[0].text


def test_valid_answer_is_stored_and_next_question_asked(small):
    sprint = say(small, started(small), "4")
    assert sprint.state.answers == {"service": 4}
    assert sprint.state.position == "interpreter"
    assert events(sprint) == [(EventType.ANSWERED, "service")]
    [outbound] = sprint.outbound
    assert outbound.question_id == "interpreter"
    assert outbound.text == "2/7 Did you use an interpreter?\nReply 'yes' or 'no'."
    assert [(o.reply, o.label) for o in outbound.options] == [("yes", "Yes"), ("no", "No")]


def test_dont_know_is_stored_as_its_token(small):
    assert say(small, started(small), "don't know").state.answers == {"service": DONT_KNOW}


def test_invalid_answer_gets_a_kind_hint_and_counts(small):
    sprint = say(small, started(small), "brilliant")
    assert sprint.state.attempts == 1
    assert sprint.state.position == "service"
    assert sprint.state.answers == {}
    assert events(sprint) == [(EventType.INVALID, "service")]
    assert sprint.outbound[0].text == (
        "Sorry, I did not understand that.\n"
        "1/7 How was the service?\n"
        "1 = Bad, 5 = Good. Please answer with a number from 1 to 5, or 'don't know'."
    )
    assert sprint.outbound[0].question_id == "service"


def test_hint_is_in_the_respondents_language(small):
    sprint = say(small, started(small, language="nb"), "fantastisk")
    assert "Svar gjerne med et tall fra 1 til 5, eller 'vet ikke'." in sprint.outbound[0].text
    assert sprint.outbound[0].text.startswith("Beklager")


def test_gives_up_after_max_attempts_and_moves_on(small):
    state = started(small)
    state = say(small, state, "x", "y").state
    assert state.attempts == 2
    sprint = say(small, state, "z")
    assert events(sprint) == [(EventType.INVALID, "service"), (EventType.GAVE_UP, "service")]
    assert sprint.state.answers == {"service": None}
    assert sprint.state.position == "interpreter" and sprint.state.attempts == 0
    assert sprint.outbound[0].text.startswith("Let's go on to the next question.\n2/7 ")


def test_max_attempts_is_the_callers_choice(small):
    sprint = say(small, started(small), "x", max_attempts=1)
    assert sprint.has(EventType.GAVE_UP)


def test_a_valid_answer_resets_attempts(small):
    state = say(small, started(small), "x", "4").state
    assert state.attempts == 0 and state.position == "interpreter"


def test_nobody_is_ever_trapped(small):
    state = started(small)
    for _ in range(len(small.questions) * 3):
        state = say(small, state, "blah").state
    assert state.status == Status.COMPLETED
    assert all(value in (None, "blah") for value in state.answers.values())


@pytest.mark.parametrize("at", range(len(FULL_RUN)))
def test_stop_at_any_point_opts_out_and_drops_answers(small, at):
    state = say(small, started(small), *FULL_RUN[:at]).state if at else started(small)
    sprint = say(small, state, "STOP")
    assert sprint.state.status == Status.OPTED_OUT
    assert sprint.state.answers == {} and sprint.state.position is None
    assert events(sprint) == [(EventType.OPTED_OUT, state.position)]


def test_stop_inside_a_sentence_is_an_answer(small):
    state = say(small, started(small), *FULL_RUN[:-1]).state
    sprint = say(small, state, "Please stop changing my adviser")
    assert sprint.state.status == Status.COMPLETED
    assert sprint.state.answers["comment"] == "Please stop changing my adviser"


def test_help_while_active_repeats_the_question(small):
    state = say(small, started(small), "4").state
    sprint = say(small, state, "?")
    assert sprint.state == state
    assert events(sprint) == [(EventType.HELP, "interpreter")]
    [outbound] = sprint.outbound
    assert "anonymous" in outbound.text and outbound.text.endswith("2/7 Did you use an interpreter?\nReply 'yes' or 'no'.")
    assert outbound.question_id == "interpreter"


def test_show_if_asks_the_follow_up_only_after_yes(small):
    after_yes = say(small, started(small), "4", "ja").state
    assert after_yes.position == "interpreter_quality"
    after_no = say(small, started(small), "4", "no")
    assert after_no.state.position == "age_group"
    # The follow-up no longer counts: question 3 of 6 now.
    assert after_no.outbound[0].text.startswith("3/6 Your age?\n1) Under 30\n2) 30 or older\nReply with a number.")


def test_background_and_comments_can_be_switched_off(small):
    state = started(small, skip_background=True, skip_comments=True)
    sprint = say(small, state, "4", "no", "2", "-")
    assert "age_group" not in sprint.state.answers
    assert sprint.state.status == Status.COMPLETED
    assert set(sprint.state.answers) == {"service", "interpreter", "topics", "children"}


def test_progress_counts_only_applicable_questions(small):
    state = started(small, skip_background=True)
    assert say(small, State(language="en", skip_background=True), "hi").outbound[0].text.split("\n")[1].startswith("1/6 ")
    sprint = say(small, state, "4", "no")
    assert sprint.outbound[0].text.startswith("3/5 Which topics matter most?")


def test_optional_question_can_be_skipped(small):
    state = say(small, started(small), "4", "no", "1", "1 og 2").state
    assert state.position == "children"
    prompt = say(small, say(small, started(small), "4", "no", "1").state, "1 og 2").outbound[0]
    assert prompt.text.endswith("Reply with a number from 0 to 20. Reply '-' to skip.")
    assert prompt.options[-1].reply == "-"
    sprint = say(small, state, "hopp over")
    assert sprint.state.answers["children"] is None
    assert events(sprint) == [(EventType.ANSWERED, "children")]


def test_last_answer_completes_with_thanks(small):
    sprint = say(small, started(small), *FULL_RUN)
    assert sprint.state.status == Status.COMPLETED
    assert sprint.state.position is None
    assert events(sprint) == [(EventType.ANSWERED, "comment"), (EventType.COMPLETED, None)]
    assert sprint.outbound[0].text == "Thank you for answering! Your answers are saved anonymously."
    assert sprint.outbound[0].question_id is None
    assert sprint.state.answers == {
        "service": 4, "interpreter": "yes", "interpreter_quality": 5, "age_group": "young",
        "topics": ["language", "housing"], "children": 2, "comment": "Thanks",
    }


def test_survey_outro_replaces_the_generic_thanks():
    from flows.definitions import bundled_survey

    survey = bundled_survey("introduction-programme")
    state = started(survey, language="en", skip_background=True, skip_comments=True)
    sprint = say(survey, state, *["5"] * 10, "no", "6")
    assert sprint.state.status == Status.COMPLETED
    assert sprint.outbound[0].text == survey.outro["en"]


@pytest.mark.parametrize("text", ["hello", "5", "STOP", "?"])
def test_completed_conversation_only_replies(small, text):
    state = say(small, started(small), *FULL_RUN).state
    sprint = say(small, state, text)
    assert sprint.state == state and sprint.events == ()
    assert sprint.outbound[0].text == "You have already answered this survey. Thank you!"


@pytest.mark.parametrize("text", ["hello", "5", "STOP", "start"])
def test_opted_out_conversation_only_replies(small, text):
    state = say(small, started(small), "STOP").state
    sprint = say(small, state, text)
    assert sprint.state == state and sprint.events == ()
    assert "opted out" in sprint.outbound[0].text


def test_reminder_while_active_says_how_many_are_left_and_asks_again(small):
    state = say(small, started(small), "4").state
    sprint = remind(small, state)
    assert sprint.state == state
    assert events(sprint) == [(EventType.REMINDED, "interpreter")]
    assert sprint.outbound[0].text.startswith("Reminder: you have 6 questions left in Small survey.\n2/7 Did you use")
    assert sprint.outbound[0].question_id == "interpreter"


def test_reminder_on_the_last_question_is_singular(small):
    state = say(small, started(small), *FULL_RUN[:-1]).state
    assert remind(small, state).outbound[0].text.startswith("Reminder: you have 1 question left")


def test_reminder_before_start_is_an_invitation(small):
    sprint = remind(small, State(language="nb"))
    assert sprint.state.status == Status.NEW
    assert events(sprint) == [(EventType.REMINDED, None)]
    assert sprint.outbound[0].text.startswith("Påminnelse: Liten undersøkelse.")


@pytest.mark.parametrize("setup", [FULL_RUN, ["STOP"]])
def test_no_reminder_after_the_end(small, setup):
    state = say(small, started(small), *setup).state
    sprint = remind(small, state)
    assert sprint.outbound == () and sprint.events == () and sprint.state == state


def test_expire_tells_an_active_respondent_and_keeps_the_state(small):
    state = say(small, started(small), "4").state
    sprint = resume(small, state, Inbound(InboundKind.EXPIRE), NOW)
    assert sprint.state == state
    assert events(sprint) == [(EventType.EXPIRED, None)]
    assert sprint.outbound[0].text == "Small survey has closed. Thank you for your time."


def test_expire_sends_nothing_to_someone_who_never_wrote_or_already_left(small):
    assert resume(small, State(language="en"), Inbound(InboundKind.EXPIRE), NOW).outbound == ()
    done = say(small, started(small), "STOP").state
    assert resume(small, done, Inbound(InboundKind.EXPIRE), NOW) == resume(small, done, Inbound(InboundKind.EXPIRE), NOW)
    assert resume(small, done, Inbound(InboundKind.EXPIRE), NOW).outbound == ()


def test_unknown_language_falls_back_to_the_surveys_default(small):
    sprint = say(small, State(language="fr"), "bonjour")
    assert "How was the service?" in sprint.outbound[0].text


def test_position_lost_in_a_survey_revision_resumes_at_first_unanswered(small):
    state = State(language="en", status=Status.ACTIVE, position="removed_question", answers={"service": 3})
    sprint = say(small, state, "yes")
    # "removed_question" is gone; the first unanswered question takes the answer.
    assert sprint.state.answers == {"service": 3, "interpreter": "yes"}


def test_now_must_be_timezone_aware(small):
    with pytest.raises(ValueError):
        resume(small, State(language="en"), Inbound(InboundKind.MESSAGE, "hi"), datetime(2026, 1, 1))


def test_same_input_same_output(small):
    state = say(small, started(small), "4").state
    first = say(small, state, "ja")
    second = say(small, state, "ja")
    assert first == second
