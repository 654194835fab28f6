"""What one message costs the send job: two transactions (two statements on PostgreSQL), one Redis call; counted, not timed."""
import dataclasses
import threading

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from service.infra import db
from service.models import Invitation
from service.models import OutboxMessage
from tests import outbox_rows
from workers.send_lanes import SQLITE_LANES
from workers.send_lanes import lane_count
from workers.send import send_outbox
from workers.send import warm_up

MESSAGES = 12
# SQLite: BEGIN IMMEDIATE and the claim with the gate's facts (UPDATE ... RETURNING); then, once the
# provider answered, BEGIN IMMEDIATE and the record (outbox, invitation), committed before the next claim so
# that a crash leaves no accepted message unsure. PostgreSQL: the claim and the record one statement each,
# in autocommit, so two round trips (no BEGIN, no COMMIT).
STATEMENTS_PER_MESSAGE = {"sqlite": 5, "postgresql": 2}
# Once per lane of a job: the campaign's sending window (campaign, organisation, policy).
STATEMENTS_PER_LANE = 8


def one_campaign(runtime, count=MESSAGES) -> list[int]:
    """`count` invitations of one campaign, each with its pending invitation message; returns the outbox ids."""
    with runtime.transaction() as session:
        campaign = outbox_rows.campaign(session, name="Cost")
        ids = []
        for index in range(count):
            phone = f"+47912000{index:02d}"
            invitation = outbox_rows.invitation(session, runtime, campaign, phone=phone)
            ids.append(outbox_rows.outbox(session, runtime, invitation, phone=phone).id)
    return ids


class Counter:
    """Statements and commits on the test database's engine, Redis commands on the runtime's client."""

    def __init__(self, runtime, monkeypatch):
        self.statements = self.commits = self.redis = 0
        # Transactions a PostgreSQL connection opened with BEGIN: each a round trip, and one for its COMMIT.
        self.server_transactions = 0
        # A job's lanes count from several threads.
        self._lock = threading.Lock()
        self.engine = db.engine_for(runtime.config.database_url, runtime.config.db_lock_timeout)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "begin", self._begin)
        command = runtime.redis.execute_command

        def counted(*args, **options):
            with self._lock:
                self.redis += 1
            return command(*args, **options)

        monkeypatch.setattr(runtime.redis, "execute_command", counted)

    def _statement(self, *_args):
        with self._lock:
            self.statements += 1

    def _commit(self, *_args):
        with self._lock:
            self.commits += 1

    def _begin(self, connection):
        if connection.dialect.name == "postgresql" and not connection.connection.dbapi_connection.autocommit:
            with self._lock:
                self.server_transactions += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "begin", self._begin)


@pytest.mark.parametrize("lanes", [1, 4])
def test_a_message_costs_two_transactions_a_few_statements_and_one_redis_call(send_runtime, twilio_api, monkeypatch, lanes):
    monkeypatch.setattr(send_runtime, "config", dataclasses.replace(send_runtime.config, send_concurrency=lanes))
    ids = one_campaign(send_runtime)
    # The pace script is loaded into Redis once per process, not per message.
    send_outbox(ids[:1])
    counter = Counter(send_runtime, monkeypatch)
    try:
        assert send_outbox(ids[1:]) == {"sent": MESSAGES - 1}
    finally:
        counter.close()
    sent = MESSAGES - 1
    # SQLite runs at most two lanes.
    if counter.engine.dialect.name == "sqlite":
        lanes = min(lanes, SQLITE_LANES)
    assert lane_count(send_runtime, sent) == lanes
    # The claim, then the record of the provider's answer in a commit of its own.
    assert counter.commits == 2 * sent
    assert counter.statements <= STATEMENTS_PER_MESSAGE[counter.engine.dialect.name] * sent + STATEMENTS_PER_LANE * lanes
    assert counter.server_transactions == 0
    assert counter.redis == sent
    with send_runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) == MESSAGES
        assert session.scalar(select(func.count()).select_from(Invitation).where(Invitation.status == "invited")) == MESSAGES


def test_warm_up_changes_nothing_and_leaves_no_connection_open(send_runtime, twilio_api):
    ids = one_campaign(send_runtime, count=2)
    engine = db.engine_for(send_runtime.config.database_url, send_runtime.config.db_lock_timeout)
    warm_up(send_runtime)
    assert engine.pool.checkedout() == 0
    with send_runtime.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(row.status, row.attempts, row.body is not None) for row in rows] == [("pending", 0, True)] * 2
    assert send_outbox(ids) == {"sent": 2}
