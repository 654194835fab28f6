"""Fuzzing the public webhooks with malformed payloads: unknown and missing fields, broken encodings, MMS
without a body, any JSON, huge bodies. Always a 2xx, 4xx or 413, never a 500, never a stack trace.
"""
import json

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests import factories
from tests.doubles import telegram_updates
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.telegram_support import tg_client  # noqa: F401
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
TELEGRAM = "/webhooks/telegram"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HANDLED = {200, 400, 403, 404, 405, 413, 415}

# Twilio's field names, so the fuzzer reaches the parser and the runner, plus anything else.
TWILIO_FIELDS = ["MessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0",
                 "MessageStatus", "ErrorCode", "FromCountry", "ApiVersion"]
values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["+4791234567", "+47 912 34 567", "004791234567", "912", "", " ", "SM" + "a" * 32, "SM" + "a" * 80,
                     "delivered", "failed", "21610", "\x00", "\ud7ff", "ABCD-EFGH", "STOP", "https://api.twilio.com/x.jpg"]),
)
forms = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(min_size=1, max_size=20)), values, max_size=10)


def signed(client, config, path, form):
    signature = RequestValidator(config.twilio_auth_token).compute_signature(config.public_base_url + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def plain(response) -> bool:
    body = response.get_data(as_text=True)
    return "Traceback" not in body and "File \"" not in body


@pytest.fixture
def campaign_with_phone(tg_runtime):
    with tg_runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        factories.invite(session, tg_runtime, campaign, phone="+4791234567")


@FUZZ
@given(form=forms, path=st.sampled_from([SMS, STATUS]))
def test_signed_twilio_forms_of_any_shape_never_fail(tg_client, tg_runtime, campaign_with_phone, form, path):
    response = signed(tg_client, tg_runtime.config, path, form)
    assert response.status_code in HANDLED and plain(response)


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1", "text/plain",
     "multipart/form-data", "multipart/form-data; boundary=x", "application/json", ""]))
def test_raw_bytes_in_any_encoding_are_refused_plainly(tg_client, body, content_type):
    for path in (SMS, STATUS, TELEGRAM):
        headers = {"Content-Type": content_type, "X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
        if path == TELEGRAM:
            headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
        response = tg_client.post(path, data=body, headers=headers)
        assert response.status_code in HANDLED and plain(response)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@st.composite
def update_like(draw):
    """An update built from a real one with fields dropped, replaced or added at any depth."""
    base = draw(st.sampled_from([
        telegram_updates.text(555001, "Hei"),
        telegram_updates.start(555001, "ABCD-EFGH"),
        telegram_updates.sticker(555001),
        telegram_updates.photo(555001),
        telegram_updates.edited(555001, "4"),
        telegram_updates.in_group("Hei"),
    ]))
    update = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 4))):
        node = update
        path = draw(st.lists(st.sampled_from(["message", "chat", "from", "text", "id", "update_id", "date", "type",
                                              "callback_query", "data", "sticker", "edited_message", "x"]), min_size=1, max_size=3))
        for key in path[:-1]:
            child = node.get(key) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                break
            node = child
        if isinstance(node, dict):
            if draw(st.booleans()):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = draw(json_values)
    return update


@FUZZ
@given(update=st.one_of(update_like(), json_values))
def test_any_json_with_the_right_secret_never_fails(tg_client, campaign_with_phone, update):
    response = tg_client.post(TELEGRAM, data=json.dumps(update), headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code in HANDLED and plain(response)


def test_mms_without_a_body_is_answered_not_refused(tg_client, tg_runtime, campaign_with_phone):
    form = {"MessageSid": "SM" + "5" * 32, "From": "+4791234567", "To": "+4759440000", "NumMedia": "1",
            "MediaUrl0": "https://api.twilio.com/media/1.jpg", "MediaContentType0": "image/jpeg"}
    assert signed(tg_client, tg_runtime.config, SMS, form).status_code == 200


@pytest.mark.parametrize("path", [SMS, STATUS, TELEGRAM])
def test_a_body_over_64_kib_is_413_before_anything_reads_it(tg_client, path):
    huge = b"Body=" + b"x" * (100 * 1024)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    response = tg_client.post(path, data=huge, headers=headers)
    assert response.status_code == 413 and plain(response)
