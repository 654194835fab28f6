"""Code guessing is limited and logged without secrets; small groups lose revealing questions."""
import dataclasses
import logging

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from flows.model import State
from service.models import Campaign
from service.models import Conversation
from service.infra.runtime import Runtime
from tests.factories import invite
from tests.factories import invite_many
from tests.factories import open_campaign
from tests.service.conversation import last_reply
from tests.service.conversation import say

GUESSER = "+4798765432"
HONEST = "+4791234567"


@pytest.fixture
def campaign(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        invite_many(session, runtime, campaign, 6)
        return campaign


def paper_code(runtime, campaign):
    with runtime.transaction() as session:
        return invite(session, runtime, campaign)[1]


def conversations(runtime):
    with runtime.session() as session:
        return session.scalars(select(Conversation)).all()


def test_after_five_wrong_codes_a_sender_is_told_to_wait_and_nothing_is_looked_up(runtime, redis, campaign, caplog):
    caplog.set_level(logging.INFO)
    code = paper_code(runtime, campaign)
    wrong = ["ABCD-EFGH", "BCDE-FGHJ", "CDEF-GHJK", "DEFG-HJKL", "EFGH-JKLM"]
    for guess in wrong:
        say(runtime, GUESSER, guess)
        assert "could not find that code" in last_reply(runtime, GUESSER).body or "fant ikke" in last_reply(runtime, GUESSER).body.lower()
    # Even the right code is not looked up now.
    say(runtime, GUESSER, code)
    assert "Too many wrong codes" in last_reply(runtime, GUESSER).body or "for mange" in last_reply(runtime, GUESSER).body.lower()
    assert conversations(runtime) == []
    # The window runs from the first wrong code, an hour by default.
    key = "svar:code-attempts:" + runtime.vault.address_hash("sms", GUESSER)
    assert 3590 <= redis.ttl(key) <= 3600
    # Another sender is not affected.
    say(runtime, HONEST, code)
    assert len(conversations(runtime)) == 1
    # Logs say what happened, by a hash prefix; never the number or a code.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    prefix = runtime.vault.address_hash("sms", GUESSER)[:8]
    assert f"wrong one-time code from sender {prefix} (5 in this window)" in logged
    assert f"code attempts refused for sender {prefix}" in logged
    assert GUESSER not in logged and GUESSER[3:] not in logged
    assert not any(guess in logged or guess.replace("-", "") in logged for guess in [*wrong, code])


def test_an_invited_respondent_whose_words_look_like_codes_is_never_locked_out(runtime, campaign):
    with runtime.transaction() as session:
        invite(session, runtime, campaign, phone=HONEST)
    for words in ["yes please", "thank you", "good good", "sure okay", "maybe yes"]:
        say(runtime, HONEST, words)
    say(runtime, HONEST, "hello there")
    assert len(conversations(runtime)) == 1


def test_the_runner_fails_open_when_redis_is_down(config, campaign, caplog):
    # Nothing listens on port 1: every Redis call fails at once.
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    runtime = Runtime(config, redis=down)
    code = paper_code(runtime, campaign)
    say(runtime, GUESSER, "ABCD-EFGH")
    say(runtime, GUESSER, code)
    assert len(conversations(runtime)) == 1
    assert "code attempt limiter unavailable" in caplog.text


def state_of(runtime, conversation) -> State:
    return State.from_dict(runtime.vault.decrypt_json(conversation.state_enc))


@pytest.mark.parametrize(
    "deployment, campaign_threshold, invited, skipped",
    [
        (5, None, 6, False),  # 6 invited, threshold 5: background questions stay
        (5, None, 4, True),
        (5, None, 5, False),  # exactly the threshold is not small
        (10, None, 6, True),  # SVAR_SMALL_GROUP=10
        (10, 3, 6, False),  # the campaign's own threshold wins
    ],
)
def test_small_groups_skip_background_questions_and_comments_from_the_start(config, redis, deployment, campaign_threshold, invited, skipped):
    runtime = Runtime(dataclasses.replace(config, small_group=deployment), redis=redis)
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        session.get(Campaign, campaign.id).small_group = campaign_threshold
        invite_many(session, runtime, campaign, invited - 1)
        _invitation, code = invite(session, runtime, campaign)
    say(runtime, HONEST, code)
    [conversation] = conversations(runtime)
    state = state_of(runtime, conversation)
    assert (state.skip_background, state.skip_comments) == (skipped, skipped)


def test_the_small_group_cell_is_the_unit_and_group_together(runtime):
    from service.models import RespondentGroup
    from service.conversation.thresholds import small_group_switches

    with runtime.transaction() as session:
        campaign = open_campaign(session)
        group = RespondentGroup(organisation_id=campaign.organisation_id, name="Spor 3")
        session.add(group)
        session.flush()
        invite_many(session, runtime, campaign, 8)  # no group
        lonely, _code = invite(session, runtime, campaign)
        lonely.group_id = group.id
        session.flush()
        assert small_group_switches(session, lonely) == {"skip_background": True, "skip_comments": True}
        crowd = session.scalars(select(type(lonely)).where(type(lonely).group_id.is_(None))).first()
        assert small_group_switches(session, crowd) == {"skip_background": False, "skip_comments": False}
