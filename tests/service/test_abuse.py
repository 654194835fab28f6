"""Attacks on the public surface: forged signatures, wrong secrets, other organisations' data through every
API route and admin page, guessed codes and passwords. Refused, rate limited, logged, and never a secret in a log.
"""
import logging
import re

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from service.admin import login_limits
from service.api.openapi import document
from service.models import ApiToken
from service.models import AuditEvent
from service.models import Conversation
from tests import factories
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import login
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org
from tests.service.api_data import draft
from tests.service.api_data import make_world

PHONE = "+4791234567"
SMS = "/webhooks/twilio/sms"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def sms_form(body="Hei", sid="SM" + "1" * 32, sender=PHONE):
    return {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+4759440000", "Body": body}


def test_forged_twilio_signatures_are_refused_and_logged_without_the_signature(client, config, logs):
    form = sms_form("my secret answer")
    forged = RequestValidator("not-our-token").compute_signature(config.public_base_url + SMS, form)
    for headers in ({"X-Twilio-Signature": forged}, {}, {"X-Twilio-Signature": ""}):
        assert client.post(SMS, data=form, headers=headers).status_code == 403
    assert logs.text.count("Twilio webhook refused") == 3
    assert forged not in logs.text and "secret answer" not in logs.text and PHONE not in logs.text


def test_wrong_telegram_secrets_are_refused_and_logged_without_the_secret(client, logs):
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "Hei"}}
    for secret in ("guessed-secret-123", "", None):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        assert client.post("/webhooks/telegram", json=update, headers=headers).status_code == 403
    assert logs.text.count("Telegram webhook refused") == 3
    assert "guessed-secret-123" not in logs.text


def documented_routes():
    for path, item in document()["paths"].items():
        for method in METHODS:
            if method in item and "{" in path:
                yield method, path


def test_no_api_route_gives_one_organisation_anothers_objects(client, runtime):
    owner = make_world(runtime)
    campaign_id = draft(runtime, owner)
    stranger = make_world(runtime, name="Annenby kommune")
    with runtime.transaction() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.user_id))
    ids = {"campaign_id": campaign_id, "unit_id": owner.unit_ids[0], "token_id": token_id}
    checked = 0
    for method, path in documented_routes():
        if "{key}" in path:
            continue  # surveys are shared by every organisation
        url = "/api/v1" + re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)
        response = getattr(client, method)(url, headers=stranger.headers, json={})
        assert response.status_code == 404, (method, path, response.status_code)
        checked += 1
    assert checked >= 12
    # And the owner still reaches them: the 404s above are about who asks.
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=owner.headers).status_code == 200
    assert client.get("/api/v1/tokens", headers=owner.headers).status_code == 200


def admin_campaign_pages(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/") and "campaign_id" in rule.arguments and "GET" in rule.methods:
            if rule.arguments <= {"campaign_id"}:
                yield rule.rule


def test_no_admin_page_shows_one_organisation_anothers_campaign(app, client, runtime):
    owner = make_org(runtime)
    campaign_id = make_campaign(runtime, owner)
    stranger = make_org(runtime, name="Annenby kommune")
    assert login(client, stranger.admin).status_code == 302
    pages = list(admin_campaign_pages(app))
    assert len(pages) >= 5
    for page in pages:
        url = page.replace("<int:campaign_id>", str(campaign_id))
        assert client.get(url).status_code == 404, url


def test_guessed_codes_are_rate_limited_per_sender_and_logged_without_codes(client, config, runtime, logs):
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        _invitation, code = factories.invite(session, runtime, campaign)
    validator = RequestValidator(config.twilio_auth_token)
    guesses = ["ABCD-EFGH", "HJKL-MNPQ", "RSTU-VWXY", "2345-6789", "ZZZZ-ZZZZ", "QQQQ-RRRR"]
    for n, guess in enumerate([*guesses, code], start=1):
        form = sms_form(guess, sid=f"SM{n:032d}", sender="+4798765432")
        signature = validator.compute_signature(config.public_base_url + SMS, form)
        assert client.post(SMS, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    # Even the right code waits out the window: a guesser cannot tell a hit from the limit.
    with runtime.session() as session:
        assert session.scalars(select(Conversation)).all() == []
    assert "limit reached" in logs.text
    for secret in (*guesses, code, code.replace("-", ""), "+4798765432"):
        assert secret not in logs.text


def test_guessed_passwords_lock_the_account_are_audited_and_never_logged(client, runtime, logs):
    org = make_org(runtime)
    guesses = [f"guess-number-{n}" for n in range(login_limits.ACCOUNT_LIMIT)]
    statuses = [login(client, org.admin, guess).status_code for guess in guesses]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    assert login(client, org.admin, PASSWORD).status_code == 429
    with runtime.session() as session:
        audited = " ".join(str(event.__dict__) for event in session.scalars(select(AuditEvent)))
    assert "login_locked" in audited
    for secret in (*guesses, PASSWORD):
        assert secret not in logs.text and secret not in audited


def test_a_wrong_api_token_is_401_and_the_token_is_not_logged(client, runtime, logs):
    make_world(runtime)
    token = "svar_" + "x" * 43
    response = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in logs.text
