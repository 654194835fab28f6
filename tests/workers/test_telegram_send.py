"""The send job on the Telegram channel, run by RQ: fakeredis in process, and a real redis-server with forked work horses."""
from datetime import datetime
from datetime import timezone

import pytest
from rq import SimpleWorker
from rq import Worker

from service.infra import db
from service.infra import runtime as runtimes
from service.channels import channel_for
from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from service.infra.queue import SEND_QUEUE
from service.infra.runtime import Runtime
from tests import outbox_rows
from tests.telegram_support import TEST_PER_CHAT_SECONDS
from tests.telegram_support import tg_runtime  # noqa: F401
from tests.telegram_support import telegram_api  # noqa: F401
from tests.telegram_support import telegram_config  # noqa: F401
from service.outbox.send_jobs import enqueue_send

OPTIONS = [{"reply": str(n), "label": str(n)} for n in range(1, 7)]


def queue_questions(runtime, chats, name="Telegram send"):
    """One question with buttons per chat, queued after commit; returns the outbox ids."""
    with runtime.transaction() as session:
        campaign = outbox_rows.campaign(session, name=name)
        ids = []
        for chat in chats:
            invitation = Invitation(
                campaign_id=campaign.id,
                unit_id=campaign.units[0].id,
                channel="telegram",
                language="nb",
                code_hash=runtime.vault.code_hash(f"code-{name}-{chat}"),
                status="started",
            )
            session.add(invitation)
            session.flush()
            row = outbox_rows.outbox(
                session, runtime, invitation, kind="reply", channel="telegram", phone=str(chat),
                body=f"1/13 Spørsmål til {chat}", options=OPTIONS, question_id="overall",
            )
            ids.append(row.id)
        enqueue_send(session, ids)
    return ids


def rows(runtime, ids):
    with runtime.session() as session:
        return [session.get(OutboxMessage, i) for i in ids]


def work(runtime, worker_class=SimpleWorker):
    queue = runtime.queue(SEND_QUEUE)
    worker_class([queue], connection=runtime.redis).work(burst=True)
    return queue


def test_questions_go_out_with_buttons_and_keep_the_message_id(tg_runtime, telegram_api):
    ids = queue_questions(tg_runtime, [7001, 7002])
    work(tg_runtime)
    sent = rows(tg_runtime, ids)
    assert [row.status for row in sent] == ["sent", "sent"]
    assert [row.provider_id for row in sent] == [str(m["message_id"]) for m in telegram_api.sent]
    assert all(row.body is None and row.address_enc is None for row in sent)
    assert telegram_api.sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "overall:0"


def test_429_waits_exactly_retry_after(tg_runtime, telegram_api):
    ids = queue_questions(tg_runtime, [7001, 7002, 7003])
    telegram_api.fail_next("429", retry_after=42)
    before = datetime.now(timezone.utc)
    queue = work(tg_runtime)
    assert [row.status for row in rows(tg_runtime, ids)] == ["pending"] * 3
    # Not RQ's fixed intervals: one new job for the deferred ids, due in 42 seconds.
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    job = queue.fetch_job(job_id)
    assert job.args == (ids,)
    due = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert 41 <= (due - before).total_seconds() <= 44
    assert queue.failed_job_registry.count == 0
    # Run it now instead of waiting: everything goes, each message once.
    queue.scheduled_job_registry.remove(job_id)
    queue.enqueue_job(job)
    channel_for("telegram", tg_runtime).pacer.redis.delete(*tg_runtime.redis.keys("svar:telegram:pace:chat:*"))
    work(tg_runtime)
    assert [row.status for row in rows(tg_runtime, ids)] == ["sent"] * 3
    assert len(telegram_api.sent) == 3


def test_a_blocked_bot_opts_the_chat_out_by_keyed_hash(tg_runtime, telegram_api):
    [blocked, fine] = queue_questions(tg_runtime, [7001, 7002])
    telegram_api.blocked.add(7001)
    work(tg_runtime)
    failed, sent = rows(tg_runtime, [blocked, fine])
    assert (failed.status, failed.error_code, sent.status) == ("failed", "403", "sent")
    with tg_runtime.session() as session:
        [opt_out] = session.query(OptOut).all()
        assert opt_out.address_hash == tg_runtime.vault.address_hash("telegram", "7001")
        assert "7001" not in opt_out.address_hash


def test_the_job_carries_ids_only(tg_runtime, telegram_api):
    queue_questions(tg_runtime, [7001])
    [job] = tg_runtime.queue(SEND_QUEUE).get_jobs()
    assert b"7001" not in job.data and "Spørsmål".encode() not in job.data


@pytest.fixture
def real_tg_runtime(telegram_config, real_redis):
    runtime = Runtime(telegram_config, redis=real_redis)
    runtimes.install(runtime)
    channel_for("telegram", runtime).pacer.per_chat_seconds = TEST_PER_CHAT_SECONDS
    yield runtime
    runtimes.install(None)


@pytest.mark.redis
def test_forking_worker_with_real_redis(real_tg_runtime, telegram_api):
    ids = queue_questions(real_tg_runtime, [7001, 7002, 7003])
    db.dispose_all()
    queue = work(real_tg_runtime, Worker)
    assert [row.status for row in rows(real_tg_runtime, ids)] == ["sent"] * 3
    assert queue.failed_job_registry.count == 0


@pytest.mark.redis
def test_paced_per_chat_with_real_redis(real_tg_runtime, telegram_api):
    channel_for("telegram", real_tg_runtime).pacer.per_chat_seconds = 1.0
    ids = queue_questions(real_tg_runtime, [7001]) + queue_questions(real_tg_runtime, [7001], name="Again")
    work(real_tg_runtime)
    assert [row.status for row in rows(real_tg_runtime, ids)] == ["sent", "sent"]
    first, second = telegram_api.sent
    assert second["sent_at"] - first["sent_at"] >= 0.95


@pytest.mark.redis
def test_429_rescheduled_with_real_redis(real_tg_runtime, telegram_api):
    ids = queue_questions(real_tg_runtime, [7001, 7002])
    telegram_api.fail_next("429", retry_after=5)
    db.dispose_all()
    queue = work(real_tg_runtime, Worker)
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    assert queue.fetch_job(job_id).args == (ids,)
    assert queue.failed_job_registry.count == 0


def test_a_message_telegram_took_is_sent_once_when_redis_fails_right_after(tg_runtime, telegram_api, monkeypatch):
    # Redis stalls between Telegram's answer and the pace's note of it: the message is sent, not failed and sent again.
    from redis.exceptions import TimeoutError as RedisTimeoutError

    [outbox_id] = queue_questions(tg_runtime, [7001])
    pacer = channel_for("telegram", tg_runtime).pacer

    def stalled(_chat_id):
        raise RedisTimeoutError("Timeout reading from socket")

    monkeypatch.setattr(pacer, "sent", stalled)
    work(tg_runtime)
    [row] = rows(tg_runtime, [outbox_id])
    assert (row.status, row.provider_id) == ("sent", str(telegram_api.sent[0]["message_id"]))
    assert len(telegram_api.sent) == 1
