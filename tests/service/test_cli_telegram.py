"""`svar telegram set-webhook` and `svar telegram poll` against the Bot API double."""
import dataclasses

from click.testing import CliRunner
from sqlalchemy import select

from service.infra import runtime as runtimes
from service.cli import main
from service.models import Conversation
from service.infra.runtime import Runtime
from tests import factories
from tests.doubles import telegram_updates as updates
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401
from tests.telegram_support import work

CHAT = 5550009


def svar(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_set_webhook(tg_runtime, telegram_api):
    result = svar("telegram", "set-webhook", "--drop-pending")
    assert result.exit_code == 0, result.output
    hook = telegram_api.webhook
    assert hook["url"] == "https://svar.example.org/webhooks/telegram"
    assert hook["secret_token"] == TELEGRAM_SECRET
    assert hook["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert hook["drop_pending_updates"] in (True, "true", "True")


def test_set_webhook_refuses_a_secret_telegram_would_refuse(tg_runtime, telegram_api):
    runtimes.install(Runtime(dataclasses.replace(tg_runtime.config, telegram_webhook_secret="has spaces!"), redis=tg_runtime.redis))
    result = CliRunner().invoke(main, ["telegram", "set-webhook"])
    assert result.exit_code != 0 and "TELEGRAM_WEBHOOK_SECRET" in result.output
    assert telegram_api.webhook is None


def test_without_a_token_the_commands_say_so(config, redis):
    runtimes.install(Runtime(config, redis=redis))
    result = CliRunner().invoke(main, ["telegram", "poll", "--once"])
    assert result.exit_code != 0 and "TELEGRAM_BOT_TOKEN" in result.output


def test_poll_applies_updates_like_the_webhook_and_makes_the_edit(tg_runtime, telegram_api):
    with tg_runtime.transaction() as session:
        _, code = factories.invite(session, tg_runtime, factories.open_campaign(session))
    telegram_api.push_update(updates.start(CHAT, code))
    assert svar("telegram", "poll", "--once", "--timeout", "0").exit_code == 0
    work(tg_runtime)
    question = telegram_api.sent_to(CHAT)[-1]
    press = updates.callback(CHAT, question, updates.button_data(question, "4"))
    telegram_api.push_update(press)
    assert svar("telegram", "poll", "--once", "--timeout", "0").exit_code == 0
    [edit] = telegram_api.calls_of("editMessageText")
    assert int(edit["message_id"]) == question["message_id"] and edit["text"].endswith("\u2705 4")
    # The offset confirmed both updates: the double has forgotten them, and a rerun changes nothing.
    assert telegram_api.calls_of("getUpdates")[-1]["offset"] == str(press["update_id"] + 1)
    assert svar("telegram", "poll", "--once", "--timeout", "0").exit_code == 0
    work(tg_runtime)
    assert len(telegram_api.calls_of("answerCallbackQuery")) == 1
    with tg_runtime.session() as session:
        state = tg_runtime.vault.decrypt_json(session.scalar(select(Conversation)).state_enc)
    assert list(state["answers"].values()) == [4]


def test_poll_while_a_webhook_is_set_explains(tg_runtime, telegram_api):
    svar("telegram", "set-webhook")
    result = CliRunner().invoke(main, ["telegram", "poll", "--once", "--timeout", "0"])
    assert result.exit_code != 0 and "webhook is set" in result.output
