"""Webhooks when the database is locked or something breaks: 5xx so the provider retries, no half-applied
step, and never a stack trace or a body in the answer or the log.
"""
import dataclasses
import logging
import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from service import create_app
from service.infra import db
from service.dispatch import delivery
from service.conversation import runner
from service.infra import runtime as runtimes
from service.channels import telegram_webhook
from service.models import Conversation
from service.models import InboundReceipt
from service.models import OutboxMessage
from tests import factories
from tests.doubles import telegram_updates
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.doubles.fixtures import telegram_api  # noqa: F401
from tests.doubles.fixtures import telegram_config  # noqa: F401

PHONE = "+4791234567"
CHAT = 555000111
SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
TELEGRAM = "/webhooks/telegram"


@pytest.fixture
def app(telegram_config, redis):
    # Locks held longer than this fail the webhook fast, instead of after ten seconds.
    config = dataclasses.replace(telegram_config, db_lock_timeout=0.3)
    app = create_app(config, redis=redis)
    yield app
    runtimes.install(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["svar"]


@pytest.fixture
def respondents(runtime):
    """An SMS respondent and a Telegram respondent, each one answer into the survey."""
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        factories.invite(session, runtime, campaign, phone=PHONE)
        _invitation, code = factories.invite(session, runtime, campaign)
    return code


def sms(client, config, sid, body, path=SMS):
    form = {"MessageSid": sid, "AccountSid": config.twilio_account_sid, "From": PHONE, "To": "+4759440000", "Body": body}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(config.public_base_url + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def telegram(client, update):
    return client.post(TELEGRAM, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


def snapshot(runtime) -> tuple:
    """Everything a step writes: receipts, outbox rows, conversations and their encrypted states."""
    with runtime.session() as session:
        return (
            session.scalar(select(func.count()).select_from(InboundReceipt)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
            sorted(session.execute(select(Conversation.id, Conversation.state_enc)).all()),
        )


@contextmanager
def locked(runtime, channel):
    """Another connection holds what the webhook needs, past the lock timeout."""
    url = runtime.config.database_url
    if runtime.config.is_sqlite:
        # A writer elsewhere holds the whole database (SQLite locks files, not rows).
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    # PostgreSQL: a transaction elsewhere holds the respondent's conversation row.
    with db.engine_for(url).connect() as connection:
        transaction = connection.begin()
        rows = connection.execute(
            text("SELECT id FROM conversations WHERE channel = :channel FOR UPDATE"), {"channel": channel}
        ).all()
        assert rows
        try:
            yield
        finally:
            transaction.rollback()


def test_a_locked_database_gives_twilio_a_503_and_its_retry_applies_the_step_once(client, runtime, respondents, caplog):
    config = runtime.config
    assert sms(client, config, "SM" + "1" * 32, "Hei").status_code == 200
    before = snapshot(runtime)
    with locked(runtime, "sms"):
        response = sms(client, config, "SM" + "2" * 32, "4")
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert "Traceback" not in response.get_data(as_text=True)
    # Nothing of the step remains, not even its receipt: the retry is not taken for a duplicate.
    assert snapshot(runtime) == before
    assert sms(client, config, "SM" + "2" * 32, "4").status_code == 200
    receipts, outbox, [(_id, state)] = snapshot(runtime)
    assert (receipts, outbox) == (before[0] + 1, before[1] + 1) and state != before[2][0][1]
    assert runtime.vault.decrypt_json(state)["answers"] == {"information_start": 4}
    # Twilio's retry of a retry changes nothing.
    assert sms(client, config, "SM" + "2" * 32, "4").status_code == 200
    assert snapshot(runtime)[:2] == (receipts, outbox)
    assert PHONE not in caplog.text and "+47" not in caplog.text


def test_a_locked_database_gives_telegram_a_503_and_its_retry_applies_the_step_once(client, runtime, respondents):
    assert telegram(client, telegram_updates.start(CHAT, respondents, update_id=1)).status_code == 200
    before = snapshot(runtime)
    with locked(runtime, "telegram"):
        response = telegram(client, telegram_updates.text(CHAT, "5", update_id=2))
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert snapshot(runtime) == before
    assert telegram(client, telegram_updates.text(CHAT, "5", update_id=2)).status_code == 200
    assert telegram(client, telegram_updates.text(CHAT, "5", update_id=2)).status_code == 200
    receipts, outbox, [(_id, state)] = snapshot(runtime)
    assert (receipts, outbox) == (before[0] + 1, before[1] + 1)
    assert runtime.vault.decrypt_json(state)["answers"] == {"information_start": 5}


def test_a_locked_database_gives_a_status_callback_a_503(client, runtime, respondents):
    if not runtime.config.is_sqlite:
        pytest.skip("PostgreSQL locks rows, and a status report takes no conversation's lock")
    with runtime.transaction() as session:
        session.add(OutboxMessage(channel="sms", kind="reply", status="sent", provider_id="SM" + "9" * 32))
    assert sms(client, runtime.config, "SM" + "1" * 32, "Hei").status_code == 200
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    signature = RequestValidator(runtime.config.twilio_auth_token).compute_signature(runtime.config.public_base_url + STATUS, form)
    with locked(runtime, "sms"):
        assert client.post(STATUS, data=form, headers={"X-Twilio-Signature": signature}).status_code == 503
    assert client.post(STATUS, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    with runtime.session() as session:
        assert session.scalar(select(OutboxMessage.status).where(OutboxMessage.provider_id == "SM" + "9" * 32)) == "delivered"


class Boom(RuntimeError):
    """A bug whose message quotes what it was given, as exception texts often do."""


def boom(*args, **kwargs):
    raise Boom(f"could not handle {PHONE} saying 'my secret answer'")


@pytest.mark.parametrize("target, attribute, path", [
    (runner, "handle_inbound", SMS),
    (delivery, "record_status", STATUS),
    (telegram_webhook, "handle_update", TELEGRAM),
])
def test_an_unexpected_error_is_a_plain_500_logged_without_the_request(client, runtime, monkeypatch, caplog, target, attribute, path):
    monkeypatch.setattr(target, attribute, boom)
    caplog.set_level(logging.INFO)
    if path == TELEGRAM:
        response = telegram(client, telegram_updates.text(CHAT, "my secret answer", update_id=7))
    elif path == STATUS:
        form = {"MessageSid": "SM" + "3" * 32, "MessageStatus": "delivered", "To": PHONE}
        url = runtime.config.public_base_url + STATUS
        signature = RequestValidator(runtime.config.twilio_auth_token).compute_signature(url, form)
        response = client.post(STATUS, data=form, headers={"X-Twilio-Signature": signature})
    else:
        response = sms(client, runtime.config, "SM" + "3" * 32, "my secret answer")
    assert response.status_code == 500 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "500 Internal Server Error\n"
    assert "Boom" in caplog.text and f"webhook {path} failed" in caplog.text
    assert "secret" not in caplog.text and PHONE not in caplog.text and "Traceback" not in caplog.text
