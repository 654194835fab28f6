"""One respondent, many requests at once, against the app served for real on loopback: one step at a time,
no answer lost, none applied twice (SQLite, and PostgreSQL with TEST_DATABASE_URL).
"""
import dataclasses
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.serving import make_server

from service import create_app
from service.infra import runtime as runtimes
from service.models import Conversation
from service.models import InboundReceipt
from service.models import Invitation
from service.models import OutboxMessage
from tests import factories
from tests.doubles import telegram_updates
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.doubles.fixtures import telegram_api  # noqa: F401
from tests.doubles.fixtures import telegram_config  # noqa: F401
from tests.doubles.twilio_api import post_signed

PHONE = "+4791234567"
CHAT = 777000123
# The first ten questions are all 1-6 scales: any digit answers whichever comes next.
SCALES = 6


@pytest.fixture
def served(telegram_config, redis):
    """The web app on 127.0.0.1:<free port>, threaded; yields (base URL, runtime)."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = create_app(dataclasses.replace(telegram_config, public_base_url=base), redis=redis)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield base, holder["app"].extensions["svar"]
    server.shutdown()
    runtimes.install(None)


def sms(base, config, sid, body, phone=PHONE):
    fields = {"MessageSid": sid, "AccountSid": config.twilio_account_sid, "From": phone, "To": "+4759440000", "Body": body}
    return post_signed(base + "/webhooks/twilio/sms", fields, config.twilio_auth_token)


def telegram(base, update):
    request = urllib.request.Request(
        base + "/webhooks/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def invited(runtime, phone=PHONE):
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        invitation, code = factories.invite(session, runtime, campaign, phone=phone)
        return invitation.id, code


def state(runtime) -> dict:
    with runtime.session() as session:
        [conversation] = session.scalars(select(Conversation)).all()
        return runtime.vault.decrypt_json(conversation.state_enc)


def count(runtime, model) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_answers_sent_at_once_are_each_applied_one_step_at_a_time(served):
    base, runtime = served
    invited(runtime)
    assert sms(base, runtime.config, "SM" + "0" * 32, "Hei") == 200
    replies_before = count(runtime, OutboxMessage)
    statuses = at_once(*(lambda n=n: sms(base, runtime.config, f"SM{n:032d}", str(n)) for n in range(1, SCALES + 1)))
    assert statuses == [200] * SCALES
    answers = state(runtime)["answers"]
    # Six steps: six questions answered, whichever request got there first; none lost or merged.
    assert len(answers) == SCALES and sorted(answers.values()) == list(range(1, SCALES + 1))
    assert count(runtime, OutboxMessage) == replies_before + SCALES
    assert count(runtime, InboundReceipt) == SCALES + 1


def test_one_message_delivered_four_times_at_once_is_applied_once(served):
    base, runtime = served
    invited(runtime)
    assert sms(base, runtime.config, "SM" + "0" * 32, "Hei") == 200
    replies_before = count(runtime, OutboxMessage)
    assert at_once(*[lambda: sms(base, runtime.config, "SM" + "7" * 32, "3")] * 4) == [200] * 4
    assert state(runtime)["answers"] == {"information_start": 3}
    assert count(runtime, OutboxMessage) == replies_before + 1


def test_one_code_on_two_channels_at_once_opens_one_conversation(served):
    base, runtime = served
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session)
        invitation, code = factories.invite(session, runtime, campaign)
    # The paper code holder types it by SMS and opens the Telegram deep link at the same moment.
    results = at_once(
        lambda: sms(base, runtime.config, "SM" + "1" * 32, code, phone="+4798765432"),
        lambda: telegram(base, telegram_updates.start(CHAT, code, update_id=1)),
    )
    assert results == [200, 200]
    with runtime.session() as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.invitation_id == invitation.id
        assert session.get(Invitation, invitation.id).status == "started"
        # The other channel was told the code is in use: one reply each, nothing else.
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
