"""What a reminder sweep costs: statements per batch whatever its size, one round trip each on PostgreSQL; counted, not timed."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import update

from service.infra import db
from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderSend
from tests.workers.reminder_world import DAY
from tests.workers.reminder_world import LAUNCH
from tests.workers.reminder_world import drain
from tests.workers.reminder_world import launched
from tests.workers.reminder_world import rows
from tests.workers.reminder_world import sends
from workers import reminders as reminder_sweep
from workers.reminders import sweep_reminders

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
# Per batch: the due rows with their opt-outs and conversations, the campaign with its organisation
# and survey version, its policy, the records with their outbox rows, the schedules; SQLite adds
# BEGIN IMMEDIATE and writes records, rows and their links in three.
STATEMENTS_PER_BATCH = 5 if POSTGRES else 8
# After the batches: the stalled-conversation query (and SQLite's BEGIN IMMEDIATE of its transaction).
STATEMENTS_AFTER = 1 if POSTGRES else 2


class Statements:
    """The statements run on the test database's engine: (SQL, executemany)."""

    def __init__(self, runtime):
        self.engine = db.engine_for(runtime.config.database_url, runtime.config.db_lock_timeout)
        self.seen: list[tuple[str, bool]] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _connection, _cursor, statement, _parameters, _context, executemany):
        self.seen.append((" ".join(statement.split()), executemany))

    def writing(self, table: str) -> list[str]:
        return [sql for sql, _many in self.seen if sql.startswith(("INSERT", "UPDATE", "WITH")) and table in sql]


def due_in_two_waves(runtime, first: int, second: int):
    """first + second invitations, the first due three days after launch, the others an hour later; returns that moment."""
    _campaign_id, ids = launched(runtime, count=first + second)
    drain(runtime, LAUNCH)
    due = LAUNCH + 3 * DAY
    with runtime.transaction() as session:
        later = update(Invitation).where(Invitation.id.in_(ids[first:])).values(next_reminder_at=due + timedelta(hours=1))
        session.execute(later)
    return due


def test_a_batch_of_reminders_costs_the_same_statements_for_5_as_for_25(send_runtime, twilio_api, monkeypatch):
    monkeypatch.setattr(reminder_sweep, "SWEEPERS", 1)
    first_due = due_in_two_waves(send_runtime, 5, 25)
    with Statements(send_runtime) as five:
        assert sweep_reminders(first_due) == 5
    with Statements(send_runtime) as twenty_five:
        assert sweep_reminders(first_due + timedelta(hours=1)) == 25
    assert len(five.seen) == len(twenty_five.seen) == STATEMENTS_PER_BATCH + STATEMENTS_AFTER
    with send_runtime.session() as session:
        links = session.execute(
            select(ReminderSend.invitation_id, OutboxMessage.invitation_id, OutboxMessage.kind)
            .join(OutboxMessage, OutboxMessage.id == ReminderSend.outbox_id, isouter=True)
        ).all()
    assert len(links) == 30 and all(record == row and kind == "reminder" for record, row, kind in links)
    assert drain(send_runtime, first_due + timedelta(hours=1)) == {"sent": 30}


@pytest.mark.skipif(not POSTGRES, reason="the set-based writes are PostgreSQL's")
def test_on_postgresql_each_batch_writes_in_two_statements_of_one_round_trip_each(send_runtime, twilio_api, monkeypatch):
    monkeypatch.setattr(reminder_sweep, "SWEEPERS", 1)
    monkeypatch.setattr(reminder_sweep, "BATCH", 10)
    due = due_in_two_waves(send_runtime, 25, 0)
    with Statements(send_runtime) as statements:
        assert sweep_reminders(due) == 25
    # Batches of 10, 10 and 5: the records with their outbox rows in one statement each,
    # the schedules in another, and no executemany (psycopg runs one statement per row).
    assert len(statements.writing("reminder_sends")) == 3
    assert len(statements.writing("INTO outbox")) == 3
    assert len(statements.writing("UPDATE invitations")) == 3
    assert not any(many for _sql, many in statements.seen)
    assert len(statements.seen) == 3 * STATEMENTS_PER_BATCH + STATEMENTS_AFTER
    assert len(rows(send_runtime)) == sends(send_runtime) == 25
    assert drain(send_runtime, due) == {"sent": 25}


def test_parallel_sweepers_share_the_batch_budget_and_write_each_reminder_once(send_runtime, twilio_api, monkeypatch):
    monkeypatch.setattr(reminder_sweep, "SWEEPERS", 2)
    monkeypatch.setattr(reminder_sweep, "BATCH", 4)
    monkeypatch.setattr(reminder_sweep, "MAX_BATCHES", 3)
    due = due_in_two_waves(send_runtime, 30, 0)
    # Three full batches in this sweep, whichever sweeper takes them; the rest waits for the next.
    assert sweep_reminders(due) == 12
    assert sweep_reminders(due) == 12
    assert sweep_reminders(due) == 6
    assert sweep_reminders(due + timedelta(minutes=1)) == 0
    assert len(rows(send_runtime)) == sends(send_runtime) == 30
    assert drain(send_runtime, due) == {"sent": 30}
