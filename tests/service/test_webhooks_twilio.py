"""POST /webhooks/twilio/sms, signed with the official SDK the way Twilio signs."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from service.conversation import runner
from service.models import InboundReceipt
from service.models import OutboxMessage
from service.infra.queue import SEND_QUEUE
from tests import factories
from service.infra.reply_list import listed_ids

PUBLIC = "https://svar.example.org"
URL = "/webhooks/twilio/sms"
PHONE = "+4791234567"


def inbound_form(sid="SM" + "1" * 32, sender=PHONE, body="Hei"):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+4759440000", "Body": body}


def post(client, config, form, signed_url=f"{PUBLIC}{URL}", path=URL, signature=True):
    headers = {}
    if signature:
        headers["X-Twilio-Signature"] = RequestValidator(config.twilio_auth_token).compute_signature(signed_url, form)
    return client.post(path, data=form, headers=headers)


@pytest.fixture
def calls(monkeypatch):
    """Record what reaches the runner instead of running it."""
    seen = []

    def handle_inbound(runtime, message, now):
        seen.append((message, now))
        return runner.APPLIED

    monkeypatch.setattr(runner, "handle_inbound", handle_inbound)
    return seen


def test_signed_sms_reaches_the_runner_and_gets_empty_twiml(client, config, calls):
    response = post(client, config, inbound_form())
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    [(message, now)] = calls
    assert (message.channel, message.address, message.text) == ("sms", PHONE, "Hei")
    assert now.tzinfo is not None


def test_behind_a_proxy_the_public_url_counts(client, config, calls):
    # The test client calls http://localhost/..., Twilio signed https://svar.example.org/...
    assert post(client, config, inbound_form()).status_code == 200
    assert post(client, config, inbound_form(sid="SM" + "2" * 32), signed_url=f"http://localhost{URL}").status_code == 403


def test_signed_for_another_host_is_refused(client, config, calls):
    assert post(client, config, inbound_form(), signed_url=f"https://evil.example.com{URL}").status_code == 403
    assert calls == []


def test_tampered_body_is_refused(client, config, calls):
    form = inbound_form()
    signature = RequestValidator(config.twilio_auth_token).compute_signature(f"{PUBLIC}{URL}", form)
    response = client.post(URL, data={**form, "Body": "STOPP"}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert calls == []


def test_unsigned_is_refused_without_details(client, config, calls):
    response = post(client, config, inbound_form(), signature=False)
    assert response.status_code == 403
    assert "signature" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("field", ["From", "MessageSid"])
def test_signed_but_malformed_is_400(client, config, calls, field):
    form = {key: value for key, value in inbound_form().items() if key != field}
    assert post(client, config, form).status_code == 400
    assert calls == []


def test_a_sender_that_is_no_phone_number_is_400(client, config, calls):
    assert post(client, config, inbound_form(sender="whatsapp:nobody")).status_code == 400


def test_wrong_method_and_oversized_bodies_are_4xx(client, config, calls):
    assert client.get(URL).status_code == 405
    huge = {**inbound_form(), "Body": "x" * (3 * 1024 * 1024)}
    assert client.post(URL, data=huge, headers={"X-Twilio-Signature": "x"}).status_code == 413
    assert client.post(URL, data=b"\xff\xfe\x00garbage", content_type="application/json").status_code == 403


def test_database_failure_answers_503_so_twilio_retries(client, config, monkeypatch):
    def broken(runtime, message, now):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(runner, "handle_inbound", broken)
    response = post(client, config, inbound_form())
    assert response.status_code == 503
    assert PHONE not in response.get_data(as_text=True)


def test_through_the_real_runner_a_replay_is_a_duplicate(client, config, runtime, monkeypatch):
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        factories.invite(session, runtime, campaign, phone=PHONE)
    outcomes = []
    real = runner.handle_inbound

    def spy(*args):
        outcomes.append(real(*args))
        return outcomes[-1]

    monkeypatch.setattr(runner, "handle_inbound", spy)

    form = inbound_form()
    assert post(client, config, form).status_code == 200
    assert post(client, config, form).status_code == 200
    assert outcomes == [runner.APPLIED, runner.DUPLICATE]
    with runtime.session() as session:
        assert session.scalars(select(InboundReceipt.external_id)).all() == [form["MessageSid"]]
        replies = session.scalars(select(OutboxMessage)).all()
    assert replies and all(row.status == "pending" and row.channel == "sms" for row in replies)
    # The reply went to the replies list as ids, after the commit, and one drain job to the send queue.
    assert listed_ids(runtime.redis) == {row.id for row in replies}
    [job] = runtime.queue(SEND_QUEUE).jobs
    assert job.func_name == "workers.replies.drain_replies" and job.args == ()
