"""Session limits come from Config (SVAR_SESSION_IDLE_MINUTES, SVAR_SESSION_LIFETIME_HOURS), not from constants."""
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.config import Config
from service.models import LoginSession
from service.models import utcnow
from tests.service.admin_support import login
from tests.service.admin_support import make_org


@pytest.fixture
def config(config):
    # Shorter than the defaults (30 minutes, 8 hours): a session within those but past these must end.
    return dataclasses.replace(config, session_idle_minutes=5, session_lifetime_hours=2)


def age_session(runtime, column, seconds):
    with runtime.transaction() as session:
        setattr(session.scalars(select(LoginSession)).one(), column, utcnow() - timedelta(seconds=seconds))


def test_the_limits_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SVAR_SESSION_IDLE_MINUTES", "12")
    monkeypatch.setenv("SVAR_SESSION_LIFETIME_HOURS", "3")
    config = Config()
    assert config.session_idle == timedelta(minutes=12)
    assert config.session_lifetime == timedelta(hours=3)


def test_the_defaults_are_half_an_hour_idle_and_eight_hours_at_most(monkeypatch):
    monkeypatch.delenv("SVAR_SESSION_IDLE_MINUTES", raising=False)
    monkeypatch.delenv("SVAR_SESSION_LIFETIME_HOURS", raising=False)
    config = Config()
    assert (config.session_idle, config.session_lifetime) == (timedelta(minutes=30), timedelta(hours=8))


@pytest.mark.parametrize("column, seconds", [("last_seen_at", 6 * 60), ("created_at", 2 * 3600 + 60)])
def test_a_session_past_the_configured_limit_ends(client, runtime, column, seconds):
    org = make_org(runtime)
    login(client, org.admin)
    age_session(runtime, column, seconds)
    assert client.get("/admin/").status_code == 302
    with runtime.transaction() as session:
        assert session.scalars(select(LoginSession)).one().ended_at is not None


@pytest.mark.parametrize("column, seconds", [("last_seen_at", 4 * 60), ("created_at", 2 * 3600 - 60)])
def test_a_session_within_the_configured_limits_goes_on(client, runtime, column, seconds):
    org = make_org(runtime)
    login(client, org.admin)
    age_session(runtime, column, seconds)
    assert client.get("/admin/").status_code == 200


def test_the_cookie_and_the_form_tokens_last_as_long_as_the_configured_lifetime(app):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 2 * 3600
