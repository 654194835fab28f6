"""The language a conversation speaks: the invitation's, the chat app's, the menu's, or switched mid-way."""
import itertools

from sqlalchemy import select

from service.conversation.inbound import InboundMessage
from service.models import Invitation
from service.models import PooledAnswerSet
from service.conversation.runner import handle_inbound
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import last_reply
from tests.service.conversation import say

PHONE = "+4791234567"
RLM = "\u200f"
_ids = itertools.count(1)


def send(runtime, text, hint=None, phone=PHONE):
    message = InboundMessage(channel="sms", external_id=f"LANG{next(_ids)}", address=phone, text=text, language_hint=hint)
    return handle_inbound(runtime, message, NOW)


def paper_code(runtime, language="ask"):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _invitation, code = invite(session, runtime, campaign, language=language)
        return code


def test_an_ask_code_takes_the_chat_apps_language(runtime):
    code = paper_code(runtime)
    send(runtime, code, hint="uk-UA")
    assert last_reply(runtime, PHONE).body.startswith("Вітаємо!")


def test_an_ask_code_without_a_usable_hint_shows_the_menu_then_starts_in_the_choice(runtime):
    code = paper_code(runtime)
    send(runtime, code, hint="de")
    menu = last_reply(runtime, PHONE)
    assert "6) \u2068العربية\u2069" in menu.body and [o["label"] for o in menu.options][5] == "العربية"
    send(runtime, "6")
    started = last_reply(runtime, PHONE).body
    assert started.startswith(f"{RLM}مرحبا!")
    with runtime.session() as session:
        assert session.scalar(select(Invitation.language)) == "ar"


def test_an_unknown_invitation_language_falls_back_to_the_campaigns_default(runtime):
    code = paper_code(runtime, language="de")
    send(runtime, code)
    assert last_reply(runtime, PHONE).body.startswith("Hei! Vi vil gjerne vite")


def test_switching_mid_survey_keeps_the_answers_and_pools_them_in_the_new_language(runtime):
    code = paper_code(runtime, language="nb")
    say(runtime, PHONE, code)
    say(runtime, PHONE, "5")
    say(runtime, PHONE, "SPRÅK")
    say(runtime, PHONE, "dansk")
    # 13 questions: a one-person group gets no background questions (A6).
    assert last_reply(runtime, PHONE).body.startswith("2/13 Hvor tilfreds er du med norskundervisningen?")
    answer_all(runtime, PHONE)
    with runtime.session() as session:
        pooled = session.scalar(select(PooledAnswerSet))
        assert pooled.language == "da"
        assert runtime.vault.decrypt_json(pooled.answers_enc)["information_start"] == 5


def test_a_stranger_is_answered_in_the_chat_apps_language(runtime):
    send(runtime, "hello", hint="pl")
    assert last_reply(runtime, PHONE).body.startswith("To jest Svar")
    send(runtime, "hello", hint="fa-AF", phone="+4799999999")
    assert last_reply(runtime, "+4799999999").body.startswith(f"{RLM}این {chr(0x2066)}Svar{chr(0x2069)} است")
