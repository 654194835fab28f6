"""The inbound step through the real runner, engine and database."""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from service.models import Conversation
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.models import PooledAnswerSet
from service.models import Response
from service.infra.runtime import Runtime
from tests.factories import invite
from tests.factories import invite_many
from tests.factories import NOW
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import last_reply
from tests.service.conversation import replies
from tests.service.conversation import say
from service.infra.reply_list import LIST_KEY

PHONE = "+4791234567"
OTHER = "+4798765432"


@pytest.fixture
def campaign(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        invite_many(session, runtime, campaign, 6)  # enough that background questions stay on
        return campaign


@pytest.fixture
def invited(runtime, campaign):
    """An invitation sent by SMS to PHONE; returns its code."""
    with runtime.transaction() as session:
        invitation, code = invite(session, runtime, campaign, phone=PHONE)
        return code


def count(runtime, model, *where):
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def invitation_status(runtime, phone):
    with runtime.session() as session:
        address_hash = runtime.vault.address_hash("sms", phone)
        return session.scalar(select(Invitation.status).where(Invitation.address_hash == address_hash))


def test_a_reply_to_the_invitation_starts_the_survey(runtime, invited):
    assert say(runtime, PHONE, "Hei") == "applied"
    first = last_reply(runtime, PHONE)
    assert "1/" in first.body and first.options
    assert invitation_status(runtime, PHONE) == "started"
    assert count(runtime, Conversation) == 1


def test_replies_are_queued_as_outbox_ids_only(runtime, redis, invited):
    say(runtime, PHONE, "Hei")
    ids = [row.id for row in replies(runtime, PHONE)]
    # The list holds the ids and nothing else; the drain job carries no arguments at all.
    assert [int(value) for value in redis.lrange(LIST_KEY, 0, -1)] == ids
    [job] = runtime.queue("send").get_jobs()
    assert job.func_name == "workers.replies.drain_replies" and job.args == () and not job.kwargs


def test_a_replayed_message_id_is_applied_once(runtime, invited):
    say(runtime, PHONE, "Hei", sid="SM-same")
    say(runtime, PHONE, "4", sid="SM-answer")
    assert say(runtime, PHONE, "4", sid="SM-answer") == "duplicate"
    bodies = [row.body for row in replies(runtime, PHONE)]
    assert len(bodies) == 2 and bodies[1].startswith("2/")


def test_unknown_sender_without_a_code_gets_an_explanation(runtime, campaign):
    say(runtime, OTHER, "hello?")
    assert any(word in last_reply(runtime, OTHER).body.lower() for word in ("kode", "code"))
    assert count(runtime, Conversation) == 0


def test_a_typed_code_starts_the_survey_from_any_phone(runtime, campaign):
    with runtime.transaction() as session:
        _invitation, code = invite(session, runtime, campaign)  # a paper code
    say(runtime, OTHER, code.lower().replace("-", " "))
    assert last_reply(runtime, OTHER).body.startswith(("Hei", "Hello")) or "1/" in last_reply(runtime, OTHER).body
    assert count(runtime, Conversation) == 1


def test_a_wrong_code_is_refused_politely(runtime, campaign):
    say(runtime, OTHER, "ABCD-EFGH")
    assert count(runtime, Conversation) == 0
    assert last_reply(runtime, OTHER).body


def test_a_code_in_use_elsewhere_is_refused(runtime, campaign):
    with runtime.transaction() as session:
        _invitation, code = invite(session, runtime, campaign)
    say(runtime, PHONE, code)
    say(runtime, OTHER, code)
    assert count(runtime, Conversation) == 1
    assert last_reply(runtime, OTHER).options is None


def test_words_that_look_like_a_code_do_not_derail_an_invited_respondent(runtime, invited):
    say(runtime, PHONE, "yes please")
    assert invitation_status(runtime, PHONE) == "started"


def test_completing_moves_answers_to_the_pool_and_deletes_the_conversation(runtime, invited):
    say(runtime, PHONE, "Hei")
    answer_all(runtime, PHONE)
    assert invitation_status(runtime, PHONE) == "completed"
    assert count(runtime, Conversation) == 0
    assert count(runtime, PooledAnswerSet) == 1
    # The pool waits for a release (close, or an interim one): nothing on the answer side yet.
    assert count(runtime, Response) == 0


def test_a_completed_code_cannot_answer_again(runtime, campaign):
    with runtime.transaction() as session:
        _invitation, code = invite(session, runtime, campaign)
    say(runtime, PHONE, code)
    answer_all(runtime, PHONE)
    say(runtime, OTHER, code)
    assert count(runtime, Conversation) == 0
    assert count(runtime, PooledAnswerSet) == 1


def test_stop_opts_out_and_withdraws_answers_in_progress(runtime, invited):
    say(runtime, PHONE, "Hei")
    say(runtime, PHONE, "5")
    say(runtime, PHONE, "STOPP")
    assert invitation_status(runtime, PHONE) == "opted_out"
    assert count(runtime, Conversation) == 0
    assert count(runtime, PooledAnswerSet) == 0
    assert count(runtime, OptOut) == 1


def test_stop_as_the_first_reply_opts_out(runtime, invited):
    say(runtime, PHONE, "stop")
    assert invitation_status(runtime, PHONE) == "opted_out"
    assert count(runtime, OptOut) == 1


def test_nonsense_is_re_asked_and_never_crashes(runtime, invited):
    say(runtime, PHONE, "Hei")
    for text in ("", "🤷", "x" * 5000, "٧", "DROP TABLE answers;"):
        assert say(runtime, PHONE, text) == "applied"
    assert invitation_status(runtime, PHONE) == "started"


def test_a_closed_campaign_ends_open_conversations(runtime, campaign, invited):
    say(runtime, PHONE, "Hei")
    with runtime.transaction() as session:
        session.get(type(campaign), campaign.id).status = "closed"
    say(runtime, PHONE, "4")
    assert count(runtime, Conversation) == 0
    assert count(runtime, PooledAnswerSet) == 0


def test_a_completion_alone_writes_nothing_until_a_release(config, redis, campaign):
    runtime = Runtime(config, redis=redis)
    phones = ["+4791000001", "+4791000002"]
    with runtime.transaction() as session:
        for phone in phones:
            invite(session, runtime, campaign, phone=phone)
    for phone in phones:
        say(runtime, phone, "Hei")
        answer_all(runtime, phone)
    from service.infra import runtime as runtimes
    from workers.store import release_pool

    runtimes.install(runtime)
    # No close and no interim request: the pool stays where it is.
    assert release_pool(campaign.id) == 0
    assert count(runtime, Response) == 0 and count(runtime, PooledAnswerSet) == 2
    assert count(runtime, OutboxMessage) > 0


def test_closing_ends_conversations_and_writes_the_whole_pool(runtime, campaign, invited):
    from service.dispatch.closing import close
    from service.models import Campaign

    say(runtime, PHONE, "Hei")
    with runtime.transaction() as session:
        finisher, code = invite(session, runtime, campaign)
    say(runtime, OTHER, code)
    answer_all(runtime, OTHER)
    with runtime.transaction() as session:
        close(session, session.get(Campaign, campaign.id), NOW)
    assert count(runtime, Conversation) == 0
    flush = [job for job in runtime.queue("default").get_jobs() if job.func_name.endswith("release_pool")][-1]
    assert flush.args == (campaign.id,)
    flush.perform()
    assert count(runtime, Response) == 1 and count(runtime, PooledAnswerSet) == 0
