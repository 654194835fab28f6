"""Sweepers: the outbox rebuilds the send queue; old inbound receipts go; the cron config loads."""
from datetime import timedelta
from pathlib import Path

from rq.cron import CronScheduler
from sqlalchemy import select

from service.models import InboundReceipt
from service.models import OutboxMessage
from service.infra.queue import DEFAULT_QUEUE
from service.infra.queue import SEND_QUEUE
from tests import outbox_rows
from workers.schedule import purge_receipts
from workers.schedule import sweep_outbox

NOW = outbox_rows.NOW
ROOT = Path(__file__).resolve().parents[2]


def row_at(runtime, status, age, **values):
    with runtime.transaction() as session:
        return outbox_rows.outbox(session, runtime, status=status, updated_at=NOW - age, created_at=NOW - age, **values).id


def queued_ids(runtime):
    return [i for job in runtime.queue(SEND_QUEUE).jobs for i in job.args[0]]


def test_stale_pending_and_stuck_sending_are_requeued_once(send_runtime):
    fresh = row_at(send_runtime, "pending", timedelta(seconds=10))
    stale = row_at(send_runtime, "pending", timedelta(minutes=2))
    sending = row_at(send_runtime, "sending", timedelta(minutes=1))
    stuck = row_at(send_runtime, "sending", timedelta(minutes=6))
    row_at(send_runtime, "sent", timedelta(hours=1), provider_id="SM" + "d" * 32)
    row_at(send_runtime, "failed", timedelta(hours=1))

    assert sweep_outbox(NOW) == 2
    assert sorted(queued_ids(send_runtime)) == sorted([stale, stuck])
    with send_runtime.session() as session:
        status = dict(session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
    assert (status[fresh], status[stale], status[sending], status[stuck]) == ("pending", "pending", "sending", "pending")

    # A minute later the same rows are not queued again while their jobs wait...
    assert sweep_outbox(NOW + timedelta(seconds=30)) == 0
    # ...and not even when the queue was lost, until another grace period passed.
    send_runtime.redis.flushall()
    assert sweep_outbox(NOW + timedelta(seconds=30)) == 0
    assert sorted(queued_ids(send_runtime)) == []


def test_a_backlog_in_the_queue_holds_pending_rows_but_not_stuck_ones(send_runtime):
    stale = row_at(send_runtime, "pending", timedelta(minutes=2))
    stuck = row_at(send_runtime, "sending", timedelta(minutes=6))
    send_runtime.queue(SEND_QUEUE).enqueue("workers.send.send_outbox", [stale])
    assert sweep_outbox(NOW) == 1
    assert queued_ids(send_runtime) == [stale, stuck]


def test_a_row_whose_job_was_lost_is_requeued_even_while_new_jobs_keep_the_queue_busy(send_runtime):
    lost = row_at(send_runtime, "pending", timedelta(minutes=2))
    waiting = row_at(send_runtime, "pending", timedelta(minutes=2))
    retrying = row_at(send_runtime, "pending", timedelta(minutes=2))
    queue = send_runtime.queue(SEND_QUEUE)
    # Redis came back empty and the next webhooks queued jobs of their own; one retry is scheduled.
    queue.enqueue("workers.send.send_outbox", [waiting])
    queue.enqueue_in(timedelta(seconds=30), "workers.send.send_outbox", [retrying])
    assert sweep_outbox(NOW) == 1
    assert queued_ids(send_runtime) == [waiting, lost]


def test_swept_rows_are_sent(send_runtime, twilio_api):
    stuck = row_at(send_runtime, "sending", timedelta(minutes=6))
    sweep_outbox(NOW)
    from workers.send import send_outbox

    [job] = send_runtime.queue(SEND_QUEUE).jobs
    assert send_outbox(*job.args) == {"sent": 1}
    with send_runtime.session() as session:
        assert session.get(OutboxMessage, stuck).status == "sent"


def test_purge_receipts_keeps_a_week(send_runtime):
    with send_runtime.transaction() as session:
        session.add(InboundReceipt(channel="sms", external_id="SMold", received_at=NOW - timedelta(days=8)))
        session.add(InboundReceipt(channel="sms", external_id="SMnew", received_at=NOW - timedelta(days=6)))
    assert purge_receipts(NOW) == 1
    with send_runtime.session() as session:
        assert session.scalars(select(InboundReceipt.external_id)).all() == ["SMnew"]


def test_cron_config_registers_the_sweepers(redis):
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file(str(ROOT / "workers" / "cron.py"))
    jobs = {job.func.__name__: job for job in scheduler.get_jobs()}
    assert {name: (job.interval, job.queue_name) for name, job in jobs.items()} == {
        "sweep_outbox": (60, DEFAULT_QUEUE),
        "open_due_campaigns": (60, DEFAULT_QUEUE),
        "close_due_campaigns": (60, DEFAULT_QUEUE),
        "release_due_pools": (60, DEFAULT_QUEUE),
        "sweep_reminders": (60, DEFAULT_QUEUE),
        "purge_receipts": (3600, DEFAULT_QUEUE),
        "purge_conversation_traces": (60, DEFAULT_QUEUE),
        "refresh_viewed_progress": (30, DEFAULT_QUEUE),
    }


def test_a_retry_long_overdue_holds_its_rows_no_more(send_runtime):
    # The worker holding RQ's scheduler lock was killed: its scheduled retries wait a minute or more.
    overdue = row_at(send_runtime, "pending", timedelta(minutes=2))
    due_soon = row_at(send_runtime, "pending", timedelta(minutes=2))
    queue = send_runtime.queue(SEND_QUEUE)
    queue.enqueue_at(NOW - timedelta(minutes=2), "workers.send.send_outbox", [overdue])
    queue.enqueue_at(NOW - timedelta(seconds=5), "workers.send.send_outbox", [due_soon])
    assert sweep_outbox(NOW) == 1
    assert queued_ids(send_runtime) == [overdue]
