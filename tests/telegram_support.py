"""Telegram test plumbing: a runtime and app aimed at the Bot API double, the webhook call, the send worker."""
import pytest
from rq import SimpleWorker

from service import create_app
from service.infra import runtime as runtimes
from service.channels import channel_for
from service.infra.queue import SEND_QUEUE
from service.infra.runtime import Runtime
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.doubles.fixtures import telegram_api  # noqa: F401
from tests.doubles.fixtures import telegram_config  # noqa: F401

URL = "/webhooks/telegram"
# Respondents answer in seconds; tests answer in milliseconds and would wait out
# Telegram's one-message-a-second per chat at every step.
TEST_PER_CHAT_SECONDS = 0.01


@pytest.fixture
def tg_runtime(telegram_config, redis):
    runtime = Runtime(telegram_config, redis=redis)
    runtimes.install(runtime)
    channel_for("telegram", runtime).pacer.per_chat_seconds = TEST_PER_CHAT_SECONDS
    yield runtime
    runtimes.install(None)


@pytest.fixture
def tg_client(telegram_config, redis, tg_runtime):
    app = create_app(telegram_config, redis=redis)
    app.extensions["svar"] = tg_runtime
    runtimes.install(tg_runtime)
    return app.test_client()


def post(client, update, secret=TELEGRAM_SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(URL, json=update, headers=headers)


def work(runtime):
    """Run the send queue dry in this process, as a worker would."""
    queue = runtime.queue(SEND_QUEUE)
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    return queue
