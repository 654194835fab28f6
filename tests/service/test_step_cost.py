"""What one answered step costs: its SQL statements and Redis round trips, counted at the driver.

A signed Twilio webhook mid-survey, end to end through the app. The step
records the receipt, reads the conversation with its invitation, campaign and
survey version (locked, in one statement, without the survey's source text),
writes the reply to the outbox and stores the new state; after the commit its
send job goes to Redis in one pipeline. Lazy loads, an ORM flush per row or
an enqueue per job would each show here as one more statement or round trip.
"""
import pytest
from redis.connection import AbstractConnection
from sqlalchemy import event
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from service.infra import db
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OutboxMessage
from service.models import SurveyVersion
from service.infra.queue import SEND_QUEUE
from tests.factories import invite
from tests.factories import invite_many
from tests.factories import open_campaign
from service.infra.reply_list import LIST_KEY

PHONE = "+4791234567"
SMS = "/webhooks/twilio/sms"
_sids = iter(range(1, 1000))


@pytest.fixture
def respondent(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        invite_many(session, runtime, campaign, 6)  # enough that background questions stay on
        invite(session, runtime, campaign, phone=PHONE)


def sms(client, config, body):
    form = {"MessageSid": f"SM{next(_sids):032d}", "AccountSid": config.twilio_account_sid, "From": PHONE,
            "To": "+4759440000", "Body": body}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(config.public_base_url + SMS, form)
    response = client.post(SMS, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


@pytest.fixture
def counted(runtime, monkeypatch):
    """Statements sent to the database (transaction control left out) and command packets sent to Redis (one per round trip)."""
    seen = {"sql": [], "redis": 0}

    def on_execute(_connection, _cursor, statement, _parameters, _context, _executemany):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen["sql"].append(statement)

    engine = db.engine_for(runtime.config.database_url, runtime.config.db_lock_timeout)
    event.listen(engine, "before_cursor_execute", on_execute)
    sent = AbstractConnection.send_packed_command

    def send_packed_command(connection, command, check_health=True):
        seen["redis"] += 1
        return sent(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)


def shape(statement: str) -> str:
    """'INSERT INTO outbox (...' -> 'INSERT outbox'; a SELECT by the table it is FROM."""
    words = statement.replace("\n", " ").split()
    verb = words[0].upper()
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    return f"{verb} {words[words.index('FROM') + 1]}"


def test_an_answered_step_makes_four_statements_and_one_redis_round_trip(client, config, runtime, respondent, counted):
    for body in ("Hei", "1", "1"):
        sms(client, config, body)
    jobs_before = runtime.queue(SEND_QUEUE).count
    listed_before = runtime.redis.llen(LIST_KEY)
    counted["sql"].clear()
    counted["redis"] = 0

    sms(client, config, "1")

    assert [shape(statement) for statement in counted["sql"]] == [
        "INSERT inbound_receipts",
        "SELECT conversations",
        "INSERT outbox",
        "UPDATE conversations",
    ]
    locked_read = counted["sql"][1]
    assert "JOIN invitations" in locked_read and "JOIN campaigns" in locked_read and "JOIN survey_versions" in locked_read
    # The survey is parsed once per process; a step never carries its source text.
    assert "survey_versions.source" not in locked_read
    # The reply pushed to the list while the drain the first step queued is still pending: no new job.
    assert counted["redis"] == 1
    assert runtime.redis.llen(LIST_KEY) == listed_before + 1
    assert runtime.queue(SEND_QUEUE).count == jobs_before == 1


def test_a_duplicate_costs_one_statement_and_nothing_in_redis(client, config, runtime, respondent, counted):
    form = {"MessageSid": "SM" + "7" * 32, "AccountSid": config.twilio_account_sid, "From": PHONE, "To": "+4759440000",
            "Body": "Hei"}
    signature = RequestValidator(config.twilio_auth_token).compute_signature(config.public_base_url + SMS, form)
    assert client.post(SMS, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    counted["sql"].clear()
    counted["redis"] = 0

    assert client.post(SMS, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200

    assert [shape(statement) for statement in counted["sql"]] == ["INSERT inbound_receipts"]
    assert counted["redis"] == 0


@pytest.fixture
def loaded():
    """ORM objects built from rows, by class name: the locked read of a mid-survey step builds none."""
    seen = []

    def on_load(target, _context):
        seen.append(type(target).__name__)

    classes = (Conversation, Invitation, Campaign, SurveyVersion)
    for cls in classes:
        event.listen(cls, "load", on_load)
    yield seen
    for cls in classes:
        event.remove(cls, "load", on_load)


def test_only_the_completing_step_loads_the_conversation_as_an_object(client, config, runtime, respondent, counted, loaded):
    """Mid-survey steps work on the locked read's columns; the last one loads the conversation with its invitation once."""
    body, shapes, objects = "Hei", [], []
    for _ in range(40):
        counted["sql"].clear()
        loaded.clear()
        sms(client, config, body)
        shapes.append([shape(statement) for statement in counted["sql"]])
        objects.append(sorted(loaded))
        with runtime.session() as session:
            invitation = session.scalar(select(Invitation).where(Invitation.address_hash == runtime.vault.address_hash("sms", PHONE)))
            if invitation.status == "completed":
                break
            reply = session.scalars(
                select(OutboxMessage).where(OutboxMessage.invitation_id == invitation.id).order_by(OutboxMessage.id.desc())
            ).first()
        offered = [option["reply"] for option in reply.options or () if option["reply"] != "-"]
        body = offered[0] if offered else "Bra"
    assert invitation.status == "completed"
    answered = ["INSERT inbound_receipts", "SELECT conversations", "INSERT outbox", "UPDATE conversations"]
    assert shapes[1:-1] == [answered] * (len(shapes) - 2)
    assert objects[1:-1] == [[]] * (len(shapes) - 2)
    assert objects[-1] == ["Conversation", "Invitation"]
    assert shapes[-1] == [
        "INSERT inbound_receipts",
        "SELECT conversations",
        # The conversation and its invitation, for the pooled answers and the invitation's status.
        "SELECT conversations",
        "INSERT outbox",
        "SELECT outbox",
        "UPDATE invitations",
        "INSERT answer_pool",
        "DELETE conversations",
        # A nudge's record goes (it would say the respondent stalled), the conversation's
        # settled rows go with it, and the pending ones lose their question id (A1).
        "DELETE reminder_sends",
        "DELETE outbox",
        "UPDATE outbox",
    ]
