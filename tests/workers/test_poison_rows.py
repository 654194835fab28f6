"""Poison rows: a row that can never be sent fails with its reason, bounded in tries, and never holds up the others."""
import dataclasses
from datetime import timedelta

import pytest
from rq import SimpleWorker

from service.infra import runtime as runtimes
from service.channels import channel_for
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.infra.queue import SEND_QUEUE
from service.infra.runtime import Runtime
from tests import outbox_rows
from tests.telegram_support import TEST_PER_CHAT_SECONDS
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401
from workers.schedule import sweep_outbox
from workers.send import SendDeferred
from workers.send import send_outbox

MAX_ATTEMPTS = 3


@pytest.fixture
def runtime(telegram_config, redis):
    config = dataclasses.replace(telegram_config, send_max_attempts=MAX_ATTEMPTS)
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    channel_for("telegram", runtime).pacer.per_chat_seconds = TEST_PER_CHAT_SECONDS
    yield runtime
    runtimes.install(None)


def write_rows(runtime, name, chats):
    """One pending Telegram message per chat in a campaign of its own, not queued: the sweeper finds them."""
    with runtime.transaction() as session:
        campaign = outbox_rows.campaign(session, name=name)
        ids = []
        for chat in chats:
            invitation = Invitation(
                campaign_id=campaign.id, unit_id=campaign.units[0].id, channel="telegram", language="nb",
                code_hash=runtime.vault.code_hash(f"code-{name}-{chat}"), status="started",
            )
            session.add(invitation)
            session.flush()
            row = outbox_rows.outbox(session, runtime, invitation, kind="reply", channel="telegram", phone=str(chat),
                                     body=f"Spørsmål til {chat}", campaign_id=campaign.id)
            ids.append(row.id)
    return ids


def statuses(runtime, ids):
    with runtime.session() as session:
        return {i: session.get(OutboxMessage, i).status for i in ids}


def test_a_poison_row_fails_at_once_and_the_fifty_others_go_out(runtime, telegram_api):
    poison, *first = write_rows(runtime, "Poison A", ["abc", *range(8001, 8025)])
    second = write_rows(runtime, "Poison B", range(9001, 9027))
    assert sweep_outbox(now=utcnow() + timedelta(hours=1)) == 51
    SimpleWorker([runtime.queue(SEND_QUEUE)], connection=runtime.redis).work(burst=True)

    # All fifty went in this one pass: none waits for a retry behind the bad row.
    assert set(statuses(runtime, first + second).values()) == {"sent"}
    assert len(telegram_api.calls_of("sendMessage")) == 50
    with runtime.session() as session:
        row = session.get(OutboxMessage, poison)
        assert (row.status, row.error_code, row.error_message, row.attempts) == ("failed", "chat_id", "not a Telegram chat id", 1)
        assert row.address_enc is None and row.body is None


def test_sweeper_queues_each_campaign_apart(runtime, telegram_api):
    first = write_rows(runtime, "Lane A", range(8101, 8104))
    second = write_rows(runtime, "Lane B", range(9101, 9104))
    sweep_outbox(now=utcnow() + timedelta(hours=1))
    batches = sorted(job.args[0] for job in runtime.queue(SEND_QUEUE).get_jobs())
    assert batches == [first, second]


def test_a_transient_failure_is_retried_a_bounded_number_of_times_then_failed_with_its_reason(runtime, telegram_api):
    [outbox_id] = write_rows(runtime, "Always 500", [8201])
    telegram_api.fail_next("500", count=MAX_ATTEMPTS + 5)
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(SendDeferred):
            send_outbox([outbox_id])
        assert statuses(runtime, [outbox_id])[outbox_id] == "pending"
    assert send_outbox([outbox_id]) == {"failed": 1}
    with runtime.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
        assert row.error_message.startswith(f"gave up after {MAX_ATTEMPTS} tries: Telegram unreachable")
    # Failed for good: a later job, or the sweeper's, does not ask Telegram again.
    calls = len(telegram_api.calls_of("sendMessage"))
    send_outbox([outbox_id])
    assert len(telegram_api.calls_of("sendMessage")) == calls == MAX_ATTEMPTS
