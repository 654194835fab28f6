"""POST /webhooks/telegram with real update payloads, through the real runner and send worker to the Bot API double."""
import logging

from sqlalchemy import func
from sqlalchemy import select

from service.models import Answer
from service.models import Conversation
from service.models import InboundReceipt
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.models import PooledAnswerSet
from service.models import Response
from tests import factories
from tests.doubles import telegram_updates as updates
from tests.telegram_support import post
from tests.telegram_support import tg_client  # noqa: F401
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401
from tests.telegram_support import work

CHAT = 5550001


def new_code(runtime, **kwargs):
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        invitation, code = factories.invite(session, runtime, campaign, **kwargs)
        return invitation.id, code


def count(runtime, model, *where):
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def conversation_state(runtime, chat=CHAT):
    with runtime.session() as session:
        row = session.scalar(select(Conversation).where(Conversation.address_hash == runtime.vault.address_hash("telegram", str(chat))))
        return runtime.vault.decrypt_json(row.state_enc) if row else None


def start(client, runtime, api, code, chat=CHAT):
    """Open the deep link and let the worker send the first question; returns it as Telegram holds it."""
    assert post(client, updates.start(chat, code)).status_code == 200
    work(runtime)
    return api.sent_to(chat)[-1]


# --- the secret token and what is no update -----------------------------------------


def test_wrong_or_missing_secret_is_refused(tg_client, tg_runtime):
    assert post(tg_client, updates.text(CHAT, "Hei"), secret="wrong-secret").status_code == 403
    assert post(tg_client, updates.text(CHAT, "Hei"), secret=None).status_code == 403
    assert post(tg_client, updates.text(CHAT, "Hei"), secret="").status_code == 403
    assert count(tg_runtime, InboundReceipt) == 0


def test_without_a_configured_secret_everything_is_refused(client, config):
    # The default test config has no TELEGRAM_WEBHOOK_SECRET: fail closed.
    assert post(client, updates.text(CHAT, "Hei"), secret="").status_code == 403
    assert post(client, updates.text(CHAT, "Hei"), secret="anything").status_code == 403


def test_malformed_json_is_400_without_a_stack_trace(tg_client, tg_runtime):
    headers = {"X-Telegram-Bot-Api-Secret-Token": "svar-webhook-secret_0123456789", "Content-Type": "application/json"}
    for body in (b"{not json", b"[]", b'"text"', b'{"message": {}}', b'{"update_id": "12"}', b""):
        response = tg_client.post("/webhooks/telegram", data=body, headers=headers)
        assert response.status_code == 400, body
        assert "Traceback" not in response.get_data(as_text=True)
    broken = updates.text(CHAT, "Hei")
    broken["message"]["chat"] = "not a chat"
    assert post(tg_client, broken).status_code == 400


def test_groups_channels_and_bots_are_ignored(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    assert post(tg_client, updates.in_group(code)).status_code == 200
    assert post(tg_client, updates.in_group("/start " + code)).status_code == 200
    channel_post = updates.update(channel_post={"message_id": 1, "chat": {"id": -100999, "type": "channel", "title": "News"}, "date": updates.DATE, "text": code})
    assert post(tg_client, channel_post).status_code == 200
    assert post(tg_client, updates.from_bot(CHAT, code)).status_code == 200
    assert count(tg_runtime, InboundReceipt) == 0
    assert count(tg_runtime, OutboxMessage) == 0


# --- starting ---------------------------------------------------------------------------


def test_deep_link_starts_the_survey_bound_to_the_code(tg_client, tg_runtime, telegram_api):
    invitation_id, code = new_code(tg_runtime)
    question = start(tg_client, tg_runtime, telegram_api, code.replace("-", ""))
    assert question["text"].startswith("Velkommen") or "1/" in question["text"]
    assert question["reply_markup"]["inline_keyboard"]
    with tg_runtime.session() as session:
        assert session.get(Invitation, invitation_id).status == "started"
        conversation = session.scalar(select(Conversation))
        assert conversation.invitation_id == invitation_id and conversation.channel == "telegram"


def test_start_alone_asks_for_a_code_and_typing_it_works(tg_client, tg_runtime, telegram_api):
    invitation_id, code = new_code(tg_runtime)
    assert post(tg_client, updates.start(CHAT)).status_code == 200
    work(tg_runtime)
    assert "code" in telegram_api.sent_to(CHAT)[-1]["text"].lower() or "kode" in telegram_api.sent_to(CHAT)[-1]["text"].lower()
    assert conversation_state(tg_runtime) is None
    assert post(tg_client, updates.text(CHAT, code.lower())).status_code == 200
    work(tg_runtime)
    assert conversation_state(tg_runtime)["status"] == "active"
    assert telegram_api.sent_to(CHAT)[-1]["reply_markup"]["inline_keyboard"]


def test_a_deep_link_with_an_unknown_code_says_so(tg_client, tg_runtime, telegram_api):
    new_code(tg_runtime)
    for payload in ("ABCDEFGH", "not-a-code_at_all"):
        assert post(tg_client, updates.start(CHAT, payload)).status_code == 200
    work(tg_runtime)
    assert len(telegram_api.sent_to(CHAT)) == 2
    assert conversation_state(tg_runtime) is None


def test_the_deep_link_again_mid_survey_shows_the_current_question(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    first = start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.callback(CHAT, first, updates.button_data(first, "4")))
    work(tg_runtime)
    before = conversation_state(tg_runtime)
    post(tg_client, updates.start(CHAT, code))
    work(tg_runtime)
    after = conversation_state(tg_runtime)
    assert after["position"] == before["position"] and after["attempts"] == 0
    assert after["answers"] == before["answers"]


# --- buttons ----------------------------------------------------------------------------


def test_a_button_answers_edits_the_question_and_is_acknowledged(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    question = start(tg_client, tg_runtime, telegram_api, code)
    press = updates.callback(CHAT, question, updates.button_data(question, "5"))
    response = post(tg_client, press)
    assert response.status_code == 200
    call = response.get_json()
    # Telegram runs the method in the webhook's answer: the question with the choice under it, no keyboard.
    assert call["method"] == "editMessageText"
    assert (call["chat_id"], call["message_id"]) == (CHAT, question["message_id"])
    assert call["text"] == question["text"] + "\n\n\u2705 5" and "reply_markup" not in call
    state = conversation_state(tg_runtime)
    assert list(state["answers"].values()) == [5]
    work(tg_runtime)
    [ack] = telegram_api.calls_of("answerCallbackQuery")
    assert ack["callback_query_id"] == press["callback_query"]["id"]
    nxt = telegram_api.sent_to(CHAT)[-1]
    assert nxt["message_id"] != question["message_id"] and nxt["text"].startswith("2/")


def test_the_acknowledgement_goes_ahead_of_queued_sends(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    question = start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.callback(CHAT, question, updates.button_data(question, "3")))
    telegram_api.calls.clear()
    work(tg_runtime)
    assert [name for name, _ in telegram_api.calls] == ["answerCallbackQuery", "sendMessage"]


def test_a_stale_button_answers_nothing_and_loses_its_keyboard(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    first = start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.text(CHAT, "2"))  # typed, so the first keyboard stays
    work(tg_runtime)
    before = conversation_state(tg_runtime)
    response = post(tg_client, updates.callback(CHAT, first, updates.button_data(first, "6")))
    assert response.get_json() == {"method": "editMessageReplyMarkup", "chat_id": CHAT, "message_id": first["message_id"]}
    assert conversation_state(tg_runtime) == before
    work(tg_runtime)
    assert len(telegram_api.calls_of("answerCallbackQuery")) == 1


def test_buttons_after_the_survey_ended_or_with_odd_data_are_only_acknowledged(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    first = start(tg_client, tg_runtime, telegram_api, code)
    for data in ("garbage", None, "information_start:99", ""):
        response = post(tg_client, updates.callback(CHAT, first, data))
        assert response.status_code == 200
        assert response.get_json()["method"] == "editMessageReplyMarkup"
    post(tg_client, updates.text(CHAT, "/stop"))
    response = post(tg_client, updates.callback(CHAT, first, updates.button_data(first, "1")))
    assert response.get_json()["method"] == "editMessageReplyMarkup"
    work(tg_runtime)
    assert len(telegram_api.calls_of("answerCallbackQuery")) == 5


def test_a_press_on_a_message_too_old_to_read_still_answers(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    first = start(tg_client, tg_runtime, telegram_api, code)
    data = updates.button_data(first, "4")
    response = post(tg_client, updates.callback(CHAT, updates.inaccessible(first), data))
    assert response.get_json() == {"method": "editMessageReplyMarkup", "chat_id": CHAT, "message_id": first["message_id"]}
    assert list(conversation_state(tg_runtime)["answers"].values()) == [4]


def test_a_duplicate_update_is_applied_once(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    question = start(tg_client, tg_runtime, telegram_api, code)
    press = updates.callback(CHAT, question, updates.button_data(question, "2"))
    assert post(tg_client, press).get_json()["method"] == "editMessageText"
    # Telegram retries when our answer was slow: nothing happens twice.
    retried = post(tg_client, press)
    assert retried.status_code == 200 and retried.get_data() == b""
    typed = updates.text(CHAT, "3")
    post(tg_client, typed)
    post(tg_client, typed)
    state = conversation_state(tg_runtime)
    assert list(state["answers"].values()) == [2, 3]
    work(tg_runtime)
    assert len(telegram_api.calls_of("answerCallbackQuery")) == 1


def test_update_ids_are_a_set_not_a_high_water_mark(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    post(tg_client, updates.start(CHAT, code, update_id=900))
    # Telegram's ids restart after a long pause: a lower id is new, not old.
    post(tg_client, updates.text(CHAT, "4", update_id=10))
    post(tg_client, updates.text(CHAT, "5", update_id=11))
    assert list(conversation_state(tg_runtime)["answers"].values()) == [4, 5]


# --- what is no answer -------------------------------------------------------------------


def test_stickers_photos_voice_documents_edits_and_unknown_commands_keep_the_place(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.text(CHAT, "4"))
    work(tg_runtime)
    before = conversation_state(tg_runtime)
    payloads = [
        updates.sticker(CHAT),
        updates.photo(CHAT),
        updates.photo(CHAT, caption="5"),
        updates.voice(CHAT),
        updates.document(CHAT),
        updates.edited(CHAT, "5"),
        updates.text(CHAT, "/settings"),
        updates.text(CHAT, "/unknown@svar_test_bot"),
    ]
    for payload in payloads:
        assert post(tg_client, payload).status_code == 200
    # No attempt counted, no answer changed, no question skipped.
    assert conversation_state(tg_runtime) == before
    telegram_api.sent.clear()
    work(tg_runtime)
    explanations = [m["text"] for m in telegram_api.sent_to(CHAT)]
    assert len(explanations) == len(payloads)
    assert all(len(text) < 200 and "reply_markup" not in m for text, m in zip(explanations, telegram_api.sent))
    assert len(set(explanations)) == 3  # media, edits, commands


def test_a_sticker_before_any_code_gets_the_intake_reply(tg_client, tg_runtime, telegram_api):
    post(tg_client, updates.sticker(CHAT))
    work(tg_runtime)
    [reply] = telegram_api.sent_to(CHAT)
    assert conversation_state(tg_runtime) is None and reply["text"]


def test_the_language_command_keeps_the_answers(tg_client, tg_runtime, telegram_api):
    _, code = new_code(tg_runtime)
    start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.text(CHAT, "4"))
    before = conversation_state(tg_runtime)
    post(tg_client, updates.text(CHAT, "/language"))
    work(tg_runtime)
    after = conversation_state(tg_runtime)
    assert after["answers"] == before["answers"] and after["attempts"] == 0
    assert telegram_api.sent_to(CHAT)[-1]["text"] != telegram_api.sent_to(CHAT)[-2]["text"]


def test_help_and_stop_commands(tg_client, tg_runtime, telegram_api):
    invitation_id, code = new_code(tg_runtime)
    start(tg_client, tg_runtime, telegram_api, code)
    post(tg_client, updates.text(CHAT, "/help"))
    work(tg_runtime)
    helped = telegram_api.sent_to(CHAT)[-1]
    assert helped["text"].count("1/") == 1 and helped["reply_markup"]
    post(tg_client, updates.text(CHAT, "/stop"))
    work(tg_runtime)
    assert conversation_state(tg_runtime) is None
    with tg_runtime.session() as session:
        assert session.get(Invitation, invitation_id).status == "opted_out"


# --- the whole way ------------------------------------------------------------------------


def test_deep_link_to_completion_by_buttons_and_typing(tg_client, tg_runtime, telegram_api, caplog):
    caplog.set_level(logging.DEBUG)
    invitation_id, code = new_code(tg_runtime)
    question = start(tg_client, tg_runtime, telegram_api, code)
    typed = False
    for _ in range(40):
        if conversation_state(tg_runtime) is None:
            break
        markup = question.get("reply_markup")
        buttons = [b for row in markup["inline_keyboard"] for b in row] if markup else []
        answers = [b for b in buttons if b["text"] not in ("Hopp over", "Skip")]
        if answers and not typed and question["text"].startswith("3/"):
            # One answer typed instead of pressed: both work.
            post(tg_client, updates.text(CHAT, "6"))
            typed = True
        elif answers:
            response = post(tg_client, updates.callback(CHAT, question, answers[0]["callback_data"]))
            assert response.get_json()["method"] == "editMessageText"
        else:
            post(tg_client, updates.text(CHAT, "Et godt program"))
        work(tg_runtime)
        question = telegram_api.sent_to(CHAT)[-1]
    assert typed and conversation_state(tg_runtime) is None
    with tg_runtime.session() as session:
        assert session.get(Invitation, invitation_id).status == "completed"
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
        pooled = session.scalar(select(func.count()).select_from(PooledAnswerSet))
        written = session.scalar(select(func.count()).select_from(Response))
        assert pooled + written == 1
        if written:
            assert session.scalar(select(func.count()).select_from(Answer)) > 5
        # Nothing of the conversation is left in the outbox: bodies and chats erased once sent.
        rows = session.scalars(select(OutboxMessage)).all()
        assert all(row.status == "sent" and row.body is None and row.address_enc is None for row in rows)
        assert {row.kind for row in rows} == {"reply", "ack"}
    # Logs carry no chat id, no code and no bot token (A4).
    assert str(CHAT) not in caplog.text and code not in caplog.text
    assert tg_runtime.config.telegram_bot_token not in caplog.text


def test_blocking_the_bot_opts_the_chat_out(tg_client, tg_runtime, telegram_api):
    invitation_id, code = new_code(tg_runtime)
    first = start(tg_client, tg_runtime, telegram_api, code)
    telegram_api.blocked.add(CHAT)
    post(tg_client, updates.callback(CHAT, first, updates.button_data(first, "4")))
    work(tg_runtime)
    with tg_runtime.session() as session:
        organisation_id = session.get(Invitation, invitation_id).campaign.organisation_id
        assert session.get(OptOut, (organisation_id, tg_runtime.vault.address_hash("telegram", str(CHAT)))) is not None
