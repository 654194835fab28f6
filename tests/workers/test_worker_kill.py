"""A send worker killed with SIGKILL before, during and after a provider call: nothing lost, nothing sent twice
that Twilio confirmed.

Real processes: redis-server, an `rq worker`, the web app served on
loopback (for Twilio's status callbacks) and the Twilio double, which can
stall requests so the worker dies in the middle of them. A send job has
`send_concurrency` lanes, each with at most one message in flight: one lane
(the guarantee message by message), and two (at most two claimed but not
recorded when it dies, the rest of the batch untouched).
"""
import dataclasses
import threading
from collections import Counter
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from service import create_app
from service.infra import runtime as runtimes
from service.models import OutboxMessage
from service.models import utcnow
from tests import outbox_rows
from tests.workers import processes
from workers.schedule import sweep_outbox
from service.outbox.send_jobs import enqueue_send

pytestmark = pytest.mark.redis
PHONES = ["+4791000001", "+4791000002", "+4791000003", "+4791000004"]
GRACE = 0.5


@pytest.fixture(params=[1, 2], ids=["1 lane", "2 lanes"])
def lanes(request) -> int:
    return request.param


@pytest.fixture
def live(twilio_config, real_redis, redis_server_url, lanes):
    """The web app on loopback (PUBLIC_BASE_URL = its address) on a real Redis; yields its runtime."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    config = dataclasses.replace(
        twilio_config,
        public_base_url=f"http://127.0.0.1:{server.server_port}",
        redis_url=redis_server_url,
        # The worker waits longer than any stall: it is killed in the middle of the call.
        twilio_timeout=30.0,
        sending_grace=GRACE,
        pending_grace=GRACE,
        sms_rate=1000.0,
        send_concurrency=lanes,
    )
    holder["app"] = create_app(config, redis=real_redis)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield holder["app"].extensions["svar"]
    server.shutdown()
    runtimes.install(None)


def queue_batch(runtime, phones) -> list[int]:
    """One send job of these invitations, committed and enqueued as the runner does."""
    ids = [outbox_rows.outbox_for_new_invitation(runtime, phone=phone)[0] for phone in phones]
    with runtime.transaction() as session:
        enqueue_send(session, ids)
    return ids


def rows(runtime, ids):
    with runtime.session() as session:
        return [session.get(OutboxMessage, i) for i in ids]


def ledger(runtime, ids, twilio_api) -> dict:
    """Messages expected, sent (at Twilio), duplicated and lost, from the double's record."""
    received = Counter(message["to"] for message in list(twilio_api.messages))
    phones = PHONES[: len(ids)]
    ledger = {
        "expected": len(phones),
        "sent": sum(1 for phone in phones if received[phone]),
        "duplicated": sum(received[phone] - 1 for phone in phones if received[phone] > 1),
        "lost": sum(1 for phone in phones if not received[phone]),
        "rows": [row.status for row in rows(runtime, ids)],
    }
    print("ledger:", ledger)
    return ledger


def kill_mid_batch(runtime, twilio_api, tmp_path, stall, lanes) -> list[int]:
    """Row 1 sent and recorded, the next `lanes` rows stalled at Twilio when the worker dies, the last never tried."""
    twilio_api.hang_seconds = 1.0
    ids = queue_batch(runtime, PHONES[: lanes + 2])
    # The first message goes alone (the other lanes wait for it to go well), then every lane stalls.
    twilio_api.fail_next("ok")
    twilio_api.fail_next(stall, count=lanes)
    worker = processes.start_worker(runtime.config, tmp_path / "worker.log")
    try:
        processes.wait_for(lambda: twilio_api.requests >= 1 + lanes, what="the stalled provider calls")
    finally:
        processes.kill(worker)
    first, *stalled, last = rows(runtime, ids)
    # The first one's status callback may already have come.
    assert first.status in ("sent", "delivered")
    # Claimed but unrecorded: at most one per lane; the rest of the batch untouched.
    # A message Twilio accepted may already be settled by its status callback
    # (due 0.1 s after it) when the kill lands late on a loaded machine.
    callback_may_have_come = twilio_api.deliver_after is not None and stall != "drop"
    unrecorded = ("sending", "sent", "delivered") if callback_may_have_come else ("sending",)
    assert len(stalled) == lanes and all(row.status in unrecorded for row in stalled)
    assert last.status == "pending"
    return ids


def recover(runtime, tmp_path):
    """What production does later: the sweeper re-queues from the database, a new worker sends."""
    assert sweep_outbox(utcnow() + timedelta(seconds=GRACE * 2)) >= 1
    worker = processes.start_worker(runtime.config, tmp_path / "worker.log", burst=True)
    assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()


@pytest.mark.parametrize("stall", ["drop", "hang", "lost-answer"])
def test_a_killed_worker_loses_nothing_and_repeats_nothing_twilio_confirmed(live, twilio_api, tmp_path, stall, lanes):
    # Twilio reports each message it accepted to the status callback, ?ref= naming our row.
    twilio_api.deliver_after = 0.1
    ids = kill_mid_batch(live, twilio_api, tmp_path, stall, lanes)
    stalled = ids[1 : 1 + lanes]
    if stall == "drop":
        # Twilio never got them: no callback, the rows stay claimed by the dead worker.
        processes.wait_for(lambda: twilio_api.requests >= 1 + lanes and not twilio_api.messages[1:], what="the drops")
    else:
        # Twilio accepted them (late, or its answers were lost): the callbacks settle the rows.
        processes.wait_for(lambda: all(row.status in ("sent", "delivered") for row in rows(live, stalled)), what="the status callbacks")
        sids = {message["sid"] for message in twilio_api.messages[1:]}
        assert all(row.provider_id in sids and row.body is None and row.address_enc is None for row in rows(live, stalled))
    recover(live, tmp_path)
    processes.wait_for(lambda: len(twilio_api.messages) >= len(ids), what="the resend")
    result = ledger(live, ids, twilio_api)
    assert (result["sent"], result["lost"], result["duplicated"]) == (len(ids), 0, 0)
    assert set(result["rows"]) <= {"sent", "delivered"}


def test_without_a_status_callback_an_unconfirmed_send_is_looked_up_not_sent_twice(live, twilio_api, tmp_path, lanes):
    # Twilio accepted, the worker died before hearing so, and no callback ever came:
    # the sweeper finds those messages in Twilio's list (workers/unsure_sends.py) instead of sending them again.
    twilio_api.deliver_after = None
    ids = kill_mid_batch(live, twilio_api, tmp_path, "lost-answer", lanes)
    recover(live, tmp_path)
    result = ledger(live, ids, twilio_api)
    assert (result["sent"], result["lost"], result["duplicated"]) == (len(ids), 0, 0)
    assert result["rows"] == ["sent"] * len(ids)
    assert twilio_api.lookups >= lanes


@pytest.mark.parametrize("lanes", [1], indirect=True)
def test_a_status_callback_that_comes_first_is_not_undone_by_the_worker(live, twilio_api, tmp_path):
    # The callback overtakes the answer to the create call: delivered stays delivered.
    twilio_api.deliver_after = 0.0
    twilio_api.hang_seconds = 0.5
    ids = queue_batch(live, PHONES[:1])
    twilio_api.fail_next("lost-answer")
    worker = processes.start_worker(live.config, tmp_path / "worker.log", burst=True)
    assert worker.wait(timeout=60) == 0
    [row] = rows(live, ids)
    assert row.status == "delivered" and row.provider_id == twilio_api.messages[0]["sid"]
