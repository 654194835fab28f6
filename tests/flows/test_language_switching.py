"""The language menu and switching: at the start, mid-survey, never losing answers, never trapping."""
from flows.definitions import bundled_survey
from flows.engine import resume
from flows.model import MENU_DUE
from flows.model import MENU_OPEN
from flows.model import EventType
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.model import Status

from .conftest import NOW
from .conftest import say
from .conftest import started

SURVEY = bundled_survey("introduction-programme")


def events(sprint):
    return [e.type for e in sprint.events]


def test_keyword_mid_survey_keeps_answers_and_asks_the_same_question_in_the_new_language(small):
    state = say(small, started(small, "en"), "4").state
    assert state.position == "interpreter"
    menu = say(small, state, "LANGUAGE")
    assert menu.state.language_menu == MENU_OPEN and menu.state.answers == {"service": 4}
    assert [o.reply for o in menu.outbound[0].options] == ["1", "2"]
    picked = say(small, menu.state, "2")
    assert picked.state.language == "nb" and picked.state.language_menu is None
    assert picked.state.answers == {"service": 4} and picked.state.position == "interpreter"
    assert events(picked) == [EventType.LANGUAGE_CHANGED]
    assert "Brukte du tolk?" in picked.outbound[0].text
    # Answers go on in the new language's words.
    assert say(small, picked.state, "ja").state.answers == {"service": 4, "interpreter": "yes"}


def test_telegram_language_command_and_a_name(small):
    state = started(small, "nb")
    menu = say(small, state, "/language@SvarBot")
    assert menu.state.language_menu == MENU_OPEN
    assert say(small, menu.state, "English").state.language == "en"


def test_menu_due_shows_at_the_first_message_and_starts_in_the_chosen_language():
    state = State(language="nb", language_menu=MENU_DUE)
    first = resume(SURVEY, state, Inbound(InboundKind.MESSAGE, "ABCD-EFGH"), NOW)
    assert first.state.status == Status.NEW and first.state.language_menu == MENU_OPEN
    assert "12) polski" in first.outbound[0].text
    chosen = resume(SURVEY, first.state, Inbound(InboundKind.MESSAGE, "١١"), NOW)
    assert chosen.state.language == "uk" and chosen.state.status == Status.ACTIVE
    assert events(chosen) == [EventType.LANGUAGE_CHANGED, EventType.STARTED]
    assert chosen.outbound[0].text.startswith("Вітаємо!")


def test_offered_languages_limit_the_menu():
    state = State(language="nb", language_menu=MENU_DUE, offered=("nb", "ar", "so"))
    menu = resume(SURVEY, state, Inbound(InboundKind.MESSAGE, "hei"), NOW)
    assert [o.label for o in menu.outbound[0].options] == ["norsk bokmål", "العربية", "Soomaali"]
    assert resume(SURVEY, menu.state, Inbound(InboundKind.MESSAGE, "3"), NOW).state.language == "so"


def test_nobody_is_trapped_in_the_menu(small):
    menu = say(small, started(small, "en"), "language").state
    first = say(small, menu, "banana")
    assert events(first) == [EventType.INVALID] and first.state.language_menu == MENU_OPEN
    second = say(small, first.state, "banana", "banana")
    # Third miss: go on in the language we had, at the same question.
    assert second.state.language_menu is None and second.state.language == "en"
    assert second.outbound[-1].question_id == "service"


def test_stop_works_inside_the_menu(small):
    menu = say(small, started(small, "en"), "language").state
    stopped = say(small, menu, "STOP")
    assert stopped.state.status == Status.OPTED_OUT and stopped.state.language_menu is None


def test_a_choice_label_that_reads_like_a_keyword_is_an_answer(small):
    # The small survey's topics include "Språk" (nb): at that question it is an answer, not the menu.
    state = say(small, started(small, "nb"), "4", "nei", "1").state
    assert state.position == "topics"
    answered = say(small, state, "Språk")
    assert answered.state.answers["topics"] == ["language"] and answered.state.language_menu is None


def test_state_round_trips_with_menu_and_offered_languages():
    state = State(language="ar", language_menu=MENU_OPEN, offered=("nb", "ar"))
    assert State.from_dict(state.to_dict()) == state
    # States stored before this field existed still load.
    assert State.from_dict({"language": "nb"}).language_menu is None


def test_help_mentions_the_keyword_in_the_respondents_language():
    state = resume(SURVEY, State(language="uk"), Inbound(InboundKind.MESSAGE, "ABCD-EFGH"), NOW).state
    helped = resume(SURVEY, state, Inbound(InboundKind.MESSAGE, "допомога"), NOW)
    assert "Надішліть МОВА, щоб змінити мову." in helped.outbound[0].text


def test_emoji_only_gets_a_hint_in_the_respondents_language():
    state = resume(SURVEY, State(language="da"), Inbound(InboundKind.MESSAGE, "ABCD-EFGH"), NOW).state
    sprint = resume(SURVEY, state, Inbound(InboundKind.MESSAGE, "😀"), NOW)
    assert sprint.outbound[0].text.startswith("Beklager, det forstod jeg ikke. Jeg kan kun læse bogstaver og tal, ikke billeder eller emoji.")
    assert "Svar venligst med et tal fra 1 til 6" in sprint.outbound[0].text
