"""Guessing limited per campaign and overall; a used code tells a stranger nothing a wrong code would not (A7)."""
import dataclasses
import threading

import pytest
from sqlalchemy import select

from service.conversation import code_attempts
from service.conversation.inbound import InboundMessage
from service.conversation.runner import handle_inbound
from service.models import Conversation
from service.infra.runtime import Runtime
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import NOW
from tests.service.conversation import last_reply
from tests.service.conversation import say

OWNER = "+4791111111"
STRANGER = "+4792222222"
OTHER_STRANGER = "+4793333333"
TOO_MANY = ("Too many wrong codes", "For mange feil koder")


def refused(reply) -> bool:
    return reply.body.startswith(TOO_MANY)


def limited(config, redis, **limits) -> Runtime:
    return Runtime(dataclasses.replace(config, **limits), redis=redis)


def conversations(runtime):
    with runtime.session() as session:
        return session.scalars(select(Conversation)).all()


def sender_count(runtime, redis, phone) -> int:
    return int(redis.get(code_attempts.PREFIX + runtime.vault.address_hash("sms", phone)) or 0)


def test_a_used_code_from_a_stranger_gets_exactly_the_wrong_code_reply(runtime, redis):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _invitation, code = invite(session, runtime, campaign, phone=OWNER, language="en", status="completed")
    say(runtime, STRANGER, code)
    say(runtime, OTHER_STRANGER, "ABCD-EFGH")
    stolen, wrong = last_reply(runtime, STRANGER), last_reply(runtime, OTHER_STRANGER)
    assert stolen.body.encode() == wrong.body.encode()
    assert stolen.invitation_id is None and stolen.options == wrong.options
    assert sender_count(runtime, redis, STRANGER) == 1, "a used code from a stranger counts as a wrong code"
    say(runtime, OWNER, code)
    assert "already" in last_reply(runtime, OWNER).body
    assert last_reply(runtime, OWNER).body != wrong.body


def test_a_printed_code_once_used_is_a_wrong_code_for_everyone(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _invitation, code = invite(session, runtime, campaign, status="completed")
    say(runtime, STRANGER, code)
    say(runtime, OTHER_STRANGER, "ABCD-EFGH")
    assert last_reply(runtime, STRANGER).body == last_reply(runtime, OTHER_STRANGER).body


def test_wrong_codes_are_limited_per_campaign_for_senders_it_knows(config, redis):
    runtime = limited(config, redis, code_attempts_campaign=3, code_attempts_global=100)
    known = [f"+479000000{n}" for n in range(5)]
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        for phone in known:
            invite(session, runtime, campaign, phone=phone, status="completed")
        _paper, code = invite(session, runtime, campaign)
    for phone in known[:3]:
        say(runtime, phone, "ABCD-EFGH")
        assert not refused(last_reply(runtime, phone))
    # A fourth sender the campaign knows is refused, even with a real code ...
    say(runtime, known[3], code)
    assert refused(last_reply(runtime, known[3]))
    assert conversations(runtime) == []
    # ... while a sender the campaign does not know is not.
    say(runtime, STRANGER, code)
    assert len(conversations(runtime)) == 1


def test_wrong_codes_are_limited_overall_across_senders(config, redis):
    runtime = limited(config, redis, code_attempts_global=4)
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _paper, code = invite(session, runtime, campaign)
    for n in range(4):
        say(runtime, f"+479100000{n}", "ABCD-EFGH")
    say(runtime, STRANGER, code)
    assert refused(last_reply(runtime, STRANGER))
    assert conversations(runtime) == []


def test_a_real_code_gives_its_try_back(runtime, redis):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        _paper, code = invite(session, runtime, campaign)
    say(runtime, STRANGER, code)
    assert len(conversations(runtime)) == 1
    assert sender_count(runtime, redis, STRANGER) == 0
    assert int(redis.get(code_attempts.GLOBAL_KEY) or 0) == 0


@pytest.mark.parametrize("hint, text", [(None, "For mange feil koder. Vent 1 time og prøv igjen."), ("en", "Too many wrong codes. Please wait 1 hour and try again.")])
def test_the_limit_reply_is_in_the_senders_language_and_nothing_more(runtime, hint, text):
    for n in range(6):
        message = InboundMessage(channel="sms", external_id=f"SM{hint}{n:030d}", address=STRANGER, text=f"ABCD-EFG{n + 2}", language_hint=hint)
        handle_inbound(runtime, message, NOW)
    assert last_reply(runtime, STRANGER).body == text


@pytest.mark.parametrize("window, hint, text", [
    (5400, "en", "Too many wrong codes. Please wait 90 minutes and try again."),
    (900, None, "For mange feil koder. Vent 15 minutter og prøv igjen."),
    (7200, "da", "For mange forkerte koder. Vent 2 timer, og prøv igen."),
    (1800, "pl", "Za dużo błędnych kodów. Czas oczekiwania: 30 minut. Potem spróbuj ponownie."),
])
def test_the_limit_reply_tells_the_limiters_real_window(config, redis, window, hint, text):
    runtime = limited(config, redis, code_attempts=2, code_attempt_window=window)
    for n in range(3):
        message = InboundMessage(channel="sms", external_id=f"SMw{window}{n:028d}", address=STRANGER, text=f"ABCD-EFG{n + 2}", language_hint=hint)
        handle_inbound(runtime, message, NOW)
    assert last_reply(runtime, STRANGER).body == text
    # The counter lasts exactly that window, so the reply tells the truth.
    assert 0 < redis.ttl(code_attempts.PREFIX + runtime.vault.address_hash("sms", STRANGER)) <= window


def burst(runtime, senders: int, each: int = 1) -> int:
    """Tries taken by `senders` threads at once against the shared counters; how many passed."""
    start = threading.Barrier(senders)
    passed = []

    def guess(n):
        start.wait()
        for _ in range(each):
            if code_attempts.take_try(runtime, f"{n:064x}", campaign_ids=[7]) is not None:
                passed.append(n)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(passed)


@pytest.mark.parametrize("limits, passes", [
    ({"code_attempts_global": 10}, 10),
    ({"code_attempts_campaign": 6}, 6),
])
def test_a_parallel_burst_passes_no_more_tries_than_the_limit_fakeredis(config, redis, limits, passes):
    assert burst(limited(config, redis, **limits), senders=40) == passes


def test_a_parallel_burst_from_one_sender_passes_no_more_than_its_limit(config, redis):
    runtime = limited(config, redis, code_attempts=5)
    start = threading.Barrier(20)
    passed = []

    def guess():
        start.wait()
        if code_attempts.take_try(runtime, "f" * 64) is not None:
            passed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 5
