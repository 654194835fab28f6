"""The Twilio adapter: signatures, parsing, and sends over HTTP to the API double."""
import dataclasses

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from service.channels.base import OutgoingMessage
from service.channels.base import PermanentFailure
from service.channels.base import RecipientOptedOut
from service.channels.base import TemporaryFailure
from service.channels.twilio import TwilioChannel
from tests.doubles.fixtures import twilio_api  # noqa: F401
from tests.doubles.fixtures import twilio_config  # noqa: F401

PUBLIC = "https://svar.example.org"
FORM = {"MessageSid": "SM" + "a" * 32, "From": "+47 912 34 567", "To": "+4759440000", "Body": "Hei"}


def signed(config, url, form):
    return RequestValidator(config.twilio_auth_token).compute_signature(url, form)


def request_context(path="/webhooks/twilio/sms", form=FORM, signature=None, base_url="http://localhost"):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return Flask(__name__).test_request_context(path, method="POST", data=form, headers=headers, base_url=base_url)


def test_verify_uses_the_public_url_not_the_one_behind_the_proxy(config):
    channel = TwilioChannel(config)
    with request_context(signature=signed(config, f"{PUBLIC}/webhooks/twilio/sms", FORM)) as ctx:
        assert channel.verify(ctx.request)
    with request_context(signature=signed(config, "http://localhost/webhooks/twilio/sms", FORM)) as ctx:
        assert not channel.verify(ctx.request)


def test_verify_keeps_the_query_string(config):
    channel = TwilioChannel(config)
    url = f"{PUBLIC}/webhooks/twilio/sms?campaign=7"
    with request_context("/webhooks/twilio/sms?campaign=7", signature=signed(config, url, FORM)) as ctx:
        assert channel.verify(ctx.request)


def test_a_signature_checks_one_hmac_when_it_matches_the_public_url(config, monkeypatch):
    computed = []
    compute = RequestValidator.compute_signature

    def counting(validator, uri, params, algorithm=None):
        computed.append(uri)
        return compute(validator, uri, params, algorithm)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    signature = signed(config, f"{PUBLIC}/webhooks/twilio/sms", FORM)
    computed.clear()
    with request_context(signature=signature) as ctx:
        assert TwilioChannel(config).verify(ctx.request)
    assert computed == [f"{PUBLIC}/webhooks/twilio/sms"]


def test_verify_still_accepts_the_url_signed_with_its_default_port(config):
    # Twilio's own signing is not consistent about ports; the SDK accepts both forms, and so do we.
    signature = signed(config, "https://svar.example.org:443/webhooks/twilio/sms", FORM)
    with request_context(signature=signature) as ctx:
        assert TwilioChannel(config).verify(ctx.request)


def test_verify_refuses_missing_tampered_and_unconfigured(config):
    good = signed(config, f"{PUBLIC}/webhooks/twilio/sms", FORM)
    with request_context() as ctx:
        assert not TwilioChannel(config).verify(ctx.request)
    with request_context(form={**FORM, "Body": "Hade"}, signature=good) as ctx:
        assert not TwilioChannel(config).verify(ctx.request)
    with request_context(signature=good) as ctx:
        assert not TwilioChannel(dataclasses.replace(config, twilio_auth_token=None)).verify(ctx.request)


def test_parse_normalises_the_sender(config):
    with request_context() as ctx:
        [message] = TwilioChannel(config).parse(ctx.request)
    assert (message.channel, message.external_id, message.address, message.text) == ("sms", FORM["MessageSid"], "+4791234567", "Hei")
    assert message.language_hint is None


def test_parse_accepts_mms_without_body(config):
    form = {key: value for key, value in FORM.items() if key != "Body"}
    with request_context(form=form) as ctx:
        [message] = TwilioChannel(config).parse(ctx.request)
    assert message.text == ""


@pytest.mark.parametrize("change", [{"From": ""}, {"MessageSid": ""}, {"From": "not a number"}, {"From": "+47 12"}])
def test_parse_refuses_malformed(config, change):
    with request_context(form={**FORM, **change}) as ctx:
        with pytest.raises(ValueError):
            TwilioChannel(config).parse(ctx.request)


def test_send_creates_the_message_at_twilio(twilio_config, twilio_api):
    sid = TwilioChannel(twilio_config).send(OutgoingMessage(address="+4791234567", text="Hei"))
    [sent] = twilio_api.messages
    assert sid == sent["sid"] and sid.startswith("SM") and len(sid) == 34
    assert (sent["to"], sent["from"], sent["body"]) == ("+4791234567", "+4759440000", "Hei")
    assert sent["messaging_service_sid"] is None
    assert sent["status_callback"] == f"{PUBLIC}/webhooks/twilio/status"


def test_send_through_a_messaging_service(twilio_config, twilio_api):
    config = dataclasses.replace(twilio_config, twilio_messaging_service_sid="MG" + "1" * 32)
    TwilioChannel(config).send(OutgoingMessage(address="+4791234567", text="Hei"))
    [sent] = twilio_api.messages
    assert (sent["from"], sent["messaging_service_sid"], sent["status"]) == (None, "MG" + "1" * 32, "accepted")


def test_one_client_and_connection_for_many_sends(twilio_config, twilio_api):
    channel = TwilioChannel(twilio_config)
    for _ in range(3):
        channel.send(OutgoingMessage(address="+4791234567", text="Hei"))
    assert len(twilio_api.messages) == 3
    [pool] = [channel._http._pool.pools[key] for key in channel._http._pool.pools.keys()]
    assert channel._client is not None and pool.num_connections == 1


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_throttling_and_outages_are_temporary(twilio_config, twilio_api, kind):
    twilio_api.fail_next(kind, retry_after=7)
    with pytest.raises(TemporaryFailure) as caught:
        TwilioChannel(twilio_config).send(OutgoingMessage(address="+4791234567", text="Hei"))
    assert caught.value.retry_after == 7
    assert caught.value.code in ("20429", "20500", "20503")


def test_a_hung_api_is_temporary(twilio_config, twilio_api):
    twilio_api.fail_next("hang")
    with pytest.raises(TemporaryFailure):
        TwilioChannel(twilio_config, timeout=0.3).send(OutgoingMessage(address="+4791234567", text="Hei"))


def test_an_unreachable_api_is_temporary(config):
    closed = dataclasses.replace(config, twilio_api_base_url="http://127.0.0.1:9")
    with pytest.raises(TemporaryFailure):
        TwilioChannel(closed, timeout=2).send(OutgoingMessage(address="+4791234567", text="Hei"))


def test_unsubscribed_recipient(twilio_config, twilio_api):
    twilio_api.fail_next("21610")
    with pytest.raises(RecipientOptedOut) as caught:
        TwilioChannel(twilio_config).send(OutgoingMessage(address="+4791234567", text="Hei"))
    assert caught.value.code == "21610"


def test_invalid_number_and_empty_body_are_permanent(twilio_config, twilio_api):
    twilio_api.fail_next("21211")
    channel = TwilioChannel(twilio_config)
    with pytest.raises(PermanentFailure) as caught:
        channel.send(OutgoingMessage(address="+4791234567", text="Hei"))
    assert caught.value.code == "21211" and not isinstance(caught.value, RecipientOptedOut)
    with pytest.raises(PermanentFailure) as caught:
        channel.send(OutgoingMessage(address="+4791234567", text=""))
    assert caught.value.code == "21602"


def test_wrong_credentials_keep_the_message_for_later(twilio_config, twilio_api):
    wrong = dataclasses.replace(twilio_config, twilio_auth_token="not-the-token")
    with pytest.raises(TemporaryFailure) as caught:
        TwilioChannel(wrong).send(OutgoingMessage(address="+4791234567", text="Hei"))
    assert caught.value.code == "20003"
