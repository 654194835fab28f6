"""The Telegram adapter: reading updates, buttons, and sending through PTB's Bot to the Bot API double."""
import os

import pytest

from service.channels import channel_for
from service.channels.base import OutgoingMessage
from service.channels.base import PermanentFailure
from service.channels.base import RecipientOptedOut
from service.channels.base import TemporaryFailure
from service.channels.telegram import bot_base_url
from service.channels.telegram import keyboard
from service.channels.telegram import read_update
from service.channels.telegram_pacing import Pacer
from tests.doubles import telegram_updates as updates
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401

CHAT = 5550002
SCALE = tuple({"reply": str(n), "label": {1: "1 - Svært misfornøyd", 6: "6 - Svært fornøyd"}.get(n, str(n))} for n in range(1, 7)) + (
    {"reply": "vet ikke", "label": "Vet ikke"},
)


# --- reading updates -----------------------------------------------------------------


def test_a_text_message_is_a_message_from_the_chat():
    update_id, received = read_update(updates.text(CHAT, "Ja takk", update_id=77, language_code="nb-NO"))
    message = received.message
    assert update_id == 77 and received.press is None
    assert (message.channel, message.external_id, message.address, message.text) == ("telegram", "77", str(CHAT), "Ja takk")
    assert message.language_hint == "nb" and message.code is None and message.unreadable is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start ABCD-EFGH", {"code": "ABCD-EFGH", "text": "ABCD-EFGH"}),
        ("/start", {"code": None, "text": "?"}),
        ("/start@svar_test_bot KQMX3WDP", {"code": "KQMX3WDP"}),
        ("/help", {"text": "help", "unreadable": None}),
        ("/HELP@svar_test_bot", {"text": "help"}),
        ("/stop", {"text": "stop"}),
        ("/language", {"text": "language", "unreadable": None}),
        ("/settings", {"unreadable": "command"}),
        ("/", {"unreadable": "command"}),
    ],
)
def test_commands(text, expected):
    _, received = read_update(updates.text(CHAT, text))
    for field, value in expected.items():
        assert getattr(received.message, field) == value


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (updates.sticker(CHAT), "media"),
        (updates.photo(CHAT), "media"),
        (updates.photo(CHAT, caption="5"), "media"),
        (updates.voice(CHAT), "media"),
        (updates.document(CHAT), "media"),
        (updates.edited(CHAT, "5"), "edited"),
    ],
)
def test_what_has_no_text_to_answer_with(payload, kind):
    _, received = read_update(payload)
    assert received.message.unreadable == kind and received.message.address == str(CHAT)


def test_what_is_not_for_us_reads_as_nothing():
    pinned = updates.update(message={"message_id": 9, "chat": updates.private_chat(CHAT), "date": updates.DATE, "from": updates.user(CHAT), "pinned_message": {"message_id": 8, "chat": updates.private_chat(CHAT), "date": 0}})
    member = updates.update(my_chat_member={"chat": updates.private_chat(CHAT), "from": updates.user(CHAT), "date": updates.DATE,
                                            "old_chat_member": {"status": "member", "user": updates.user(1)},
                                            "new_chat_member": {"status": "kicked", "user": updates.user(1), "until_date": 0}})
    for payload in (updates.in_group("Hei"), updates.from_bot(CHAT, "Hei"), pinned, member):
        _, received = read_update(payload)
        assert received.message is None and received.press is None


def test_a_button_press_names_the_question_and_option():
    sent = {"message_id": 41, "chat": updates.private_chat(CHAT), "date": updates.DATE, "text": "1/13 Hvor fornøyd ...",
            "reply_markup": keyboard("information_start", SCALE).to_dict()}
    _, received = read_update(updates.callback(CHAT, sent, "information_start:3", update_id=78))
    assert (received.message.question_id, received.message.option, received.message.external_id) == ("information_start", 3, "78")
    press = received.press
    assert (press.chat_id, press.message_id, press.label, press.question_text) == (CHAT, 41, "4", "1/13 Hvor fornøyd ...")


@pytest.mark.parametrize("payload", [None, [], {}, {"update_id": "1"}, {"update_id": 1, "message": "x"}, {"update_id": 1, "message": {"chat": 5}}])
def test_no_update_is_a_value_error(payload):
    with pytest.raises(ValueError):
        read_update(payload)


# --- buttons ------------------------------------------------------------------------------


def test_a_scale_keyboard_keeps_short_labels_side_by_side():
    rows = keyboard("overall", SCALE).inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["1 - Svært misfornøyd"], ["2", "3", "4", "5"], ["6 - Svært fornøyd"], ["Vet ikke"]]
    assert [b.callback_data for row in rows for b in row] == [f"overall:{n}" for n in range(7)]


def test_no_keyboard_without_options_or_when_the_data_would_not_fit():
    assert keyboard("overall", ()) is None
    assert keyboard(None, SCALE) is None
    assert keyboard("q" * 70, SCALE) is None


def test_base_url_is_the_api_root_plus_bot(telegram_config):
    assert bot_base_url(telegram_config) == telegram_config.telegram_api_base_url + "/bot"


# --- sending ------------------------------------------------------------------------------


def test_a_question_goes_out_with_its_buttons(tg_runtime, telegram_api):
    channel = channel_for("telegram", tg_runtime)
    message_id = channel.send(OutgoingMessage(address=str(CHAT), text="1/13 Spørsmål", options=SCALE, question_id="overall"))
    [sent] = telegram_api.sent
    assert message_id == str(sent["message_id"])
    assert sent["chat"]["id"] == CHAT and sent["text"] == "1/13 Spørsmål"
    assert sent["reply_markup"]["inline_keyboard"][1][0] == {"text": "2", "callback_data": "overall:1"}


def test_an_ack_answers_the_callback_query(tg_runtime, telegram_api):
    channel = channel_for("telegram", tg_runtime)
    assert channel.send(OutgoingMessage(address=str(CHAT), text="4382001", kind="ack")) == ""
    assert telegram_api.calls_of("answerCallbackQuery") == [{"callback_query_id": "4382001"}]
    assert telegram_api.sent == []


@pytest.mark.parametrize(
    ("failure", "error"),
    [("blocked", RecipientOptedOut), ("deactivated", PermanentFailure), ("chat_not_found", PermanentFailure), ("500", TemporaryFailure)],
)
def test_failures_mean_what_telegram_says(tg_runtime, telegram_api, failure, error):
    telegram_api.fail_next(failure)
    with pytest.raises(error) as raised:
        channel_for("telegram", tg_runtime).send(OutgoingMessage(address=str(CHAT), text="Hei"))
    assert type(raised.value) is error
    assert str(CHAT) not in str(raised.value)


def test_429_carries_retry_after_and_holds_the_chat(tg_runtime, telegram_api):
    channel = channel_for("telegram", tg_runtime)
    telegram_api.fail_next("429", retry_after=17)
    with pytest.raises(TemporaryFailure) as raised:
        channel.send(OutgoingMessage(address=str(CHAT), text="Hei"))
    assert raised.value.retry_after == 17 and raised.value.code == "429"
    # Every worker now keeps off this chat until Telegram's time is up.
    with pytest.raises(TemporaryFailure) as again:
        channel.send(OutgoingMessage(address=str(CHAT), text="Hei"))
    assert 15 < again.value.retry_after <= 17
    assert len(telegram_api.calls_of("sendMessage")) == 1


def test_a_wrong_token_is_temporary(tg_runtime, telegram_api):
    telegram_api.token = "other"
    with pytest.raises(TemporaryFailure):
        channel_for("telegram", tg_runtime).send(OutgoingMessage(address=str(CHAT), text="Hei"))


def test_one_loop_and_one_connection_pool_per_process(tg_runtime, telegram_api):
    channel = channel_for("telegram", tg_runtime)
    channel.send(OutgoingMessage(address="1", text="a"))
    loop, bot = channel._loop, channel.bot()
    channel.send(OutgoingMessage(address="2", text="b"))
    assert (channel._loop, channel.bot()) == (loop, bot)
    # A forked work horse must not use the parent's loop: it builds its own.
    channel._pid = os.getpid() + 1
    assert channel.bot() is not bot and channel._loop is not loop


# --- pacing -------------------------------------------------------------------------------


def test_one_message_a_second_per_chat_across_workers(tg_runtime, telegram_api):
    two_workers = [channel_for("telegram", tg_runtime), type(channel_for("telegram", tg_runtime))(tg_runtime)]
    for channel in two_workers:
        channel.pacer.per_chat_seconds = 1.0
    two_workers[0].send(OutgoingMessage(address=str(CHAT), text="1"))
    two_workers[1].send(OutgoingMessage(address=str(CHAT), text="2"))
    two_workers[1].send(OutgoingMessage(address="5550003", text="other chat"))
    first, second, other = telegram_api.sent
    assert second["sent_at"] - first["sent_at"] >= 0.95
    # Bounds with room for a loaded machine: another chat must not wait its own
    # second (it would come >= 1 s later), and the pair waits one second, not two.
    assert other["sent_at"] - second["sent_at"] < 0.9
    assert other["sent_at"] - first["sent_at"] < 1.9


class FakeClock:
    def __init__(self, now=1000.25):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_at_most_the_global_rate_per_second(redis):
    clock = FakeClock()
    pacer = Pacer(redis, lambda chat: chat, per_second=30, clock=clock, sleep=clock.sleep)
    for n in range(75):
        pacer.wait(f"chat-{n}")
    # 30 in the first second, 30 in the next, the rest in the third.
    assert int(clock.now) == 1002
    assert len(clock.slept) == 2


def test_a_long_wait_is_handed_back_as_retry_after(redis):
    clock = FakeClock()
    pacer = Pacer(redis, lambda chat: chat, clock=clock, sleep=clock.sleep)
    pacer.hold("chat", 20)
    with pytest.raises(TemporaryFailure) as raised:
        pacer.wait("chat")
    assert raised.value.retry_after > 19 and clock.slept == []


def test_pacing_keys_hold_no_chat_id(tg_runtime, telegram_api):
    channel_for("telegram", tg_runtime).send(OutgoingMessage(address=str(CHAT), text="Hei"))
    keys = [key.decode() for key in tg_runtime.redis.keys("svar:telegram:*")]
    assert keys and not any(str(CHAT) in key for key in keys)
