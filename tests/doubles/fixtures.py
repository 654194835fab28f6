"""Pytest fixtures for the provider doubles; import them into a conftest or test module."""
import dataclasses

import pytest

from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import TwilioApiDouble


@pytest.fixture
def twilio_api(config):
    """A running Twilio API double that checks the test config's credentials."""
    double = TwilioApiDouble(config.twilio_account_sid, config.twilio_auth_token, hang_seconds=3.0).start()
    yield double
    double.stop()


@pytest.fixture
def twilio_config(config, twilio_api):
    """The test config with TWILIO_API_BASE_URL aimed at the double."""
    return dataclasses.replace(config, twilio_api_base_url=twilio_api.url)


TELEGRAM_TOKEN = "7000000001:AAE-test-token-for-the-double"
TELEGRAM_SECRET = "svar-webhook-secret_0123456789"


@pytest.fixture
def telegram_api():
    """A running Bot API double that answers only the test token."""
    double = TelegramApiDouble(TELEGRAM_TOKEN).start()
    yield double
    double.stop()


@pytest.fixture
def telegram_config(config, telegram_api):
    """The test config with a bot token, a webhook secret and TELEGRAM_API_BASE_URL aimed at the double."""
    return dataclasses.replace(
        config,
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base_url=telegram_api.url,
        telegram_bot_username="svar_test_bot",
    )
