"""Pytest fixtures for the provider doubles; import them into a conftest or test module."""
import dataclasses

import pytest

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
