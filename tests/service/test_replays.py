"""Replays, duplicates and out-of-order deliveries: each inbound applied once, in the order it first
arrived; delivery statuses only move forward, whatever order the provider reports them in.
"""
import itertools

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import select

from service.dispatch import delivery
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from tests import factories
from tests.service.conversation import say

FIXTURES_PER_EXAMPLE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_phones = itertools.count(10000)
WORDS = ["1", "2", "4", "6", "ja", "nei", "?", "vet ikke", "hei", "SPRÅK", "-", "7"]


def conversation_state(runtime, phone):
    """The decrypted state of the phone's conversation, or the invitation status once it has none."""
    address_hash = runtime.vault.address_hash("sms", phone)
    with runtime.session() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.address_hash == address_hash))
        if conversation is not None:
            return runtime.vault.decrypt_json(conversation.state_enc)
        return session.scalar(select(Invitation.status).where(Invitation.address_hash == address_hash))


def new_respondent(runtime, campaign_id) -> str:
    phone = f"+4792{next(_phones):06d}"
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        factories.invite(session, runtime, campaign, phone=phone)
    return phone


@FIXTURES_PER_EXAMPLE
@given(
    texts=st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
    replays=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 40)), max_size=20),
)
def test_any_replay_pattern_applies_each_message_once_in_first_arrival_order(runtime, texts, replays):
    with runtime.transaction() as session:
        campaign_id = factories.open_campaign(session).id
    replayed, reference = new_respondent(runtime, campaign_id), new_respondent(runtime, campaign_id)
    # Each message arrives once in order; Twilio's retries of it arrive again anywhere later.
    arrivals = list(range(len(texts)))
    for message, offset in replays:
        message %= len(texts)
        first = arrivals.index(message)
        arrivals.insert(first + 1 + offset % (len(arrivals) - first), message)
    tag = next(_phones)
    outcomes = [say(runtime, replayed, texts[n], sid=f"SM{tag:016d}{n:016d}") for n in arrivals]
    assert outcomes.count("duplicate") == len(replays)
    for text in texts:
        say(runtime, reference, text)
    assert conversation_state(runtime, replayed) == conversation_state(runtime, reference)


STATUSES = ["queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled"]


@FIXTURES_PER_EXAMPLE
@given(reports=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=10))
def test_delivery_statuses_only_move_forward_in_any_order(runtime, reports):
    sid = f"SM{next(_phones):032d}"
    with runtime.transaction() as session:
        session.add(OutboxMessage(channel="sms", kind="reply", status="sent", provider_id=sid))
    for status in reports:
        with runtime.transaction() as session:
            delivery.record_status(session, sid, status, None, utcnow())
    with runtime.session() as session:
        final = session.scalar(select(OutboxMessage.status).where(OutboxMessage.provider_id == sid))
    # The first final report wins; later or replayed reports never move the row back.
    first_final = next((status for status in reports if status in delivery.DELIVERED or status in delivery.FAILED), None)
    expected = "sent" if first_final is None else "delivered" if first_final in delivery.DELIVERED else delivery.FAILED[first_final]
    assert final == expected
