"""A sweep batch's writes: reminder records with their outbox rows, and the new schedules.

On PostgreSQL each is ONE statement over arrays (unnest), whatever the batch
size: the server plans it once and writes the rows set-based, instead of
parsing a VALUES list of thousands of parameters or running one UPDATE per
row. The arrays go in psycopg's binary format (%(name)b): its text format
quotes each element through a regular expression, ~10x the cost. SQLite runs
in process, where an executemany costs no round trips.
"""
from datetime import datetime

from sqlalchemy import bindparam

from ..models import Invitation
from ..models import OutboxMessage
from .sending import claim_numbers
from .sending import insert_reminder_rows
from ..outbox.send_jobs import enqueue_send

# Outbox rows are numbered before they exist, so that each reminder record is
# written with its outbox id (no second UPDATE to link them, no second check
# of its foreign keys). The SERIAL column's sequence, as create_all and 0001 name it.
OUTBOX_SEQUENCE = "outbox_id_seq"


def write_reminders(session, claims: list[tuple[int, int, str]], rows: list[dict], now: datetime) -> set[int]:
    """Record reminders (invitation id, number, kind) and write the outbox row of each that is new; queue them after commit.

    `rows[i]` is the outbox row of `claims[i]` (service.reminders.sending.reminder_row).
    A reminder recorded before (a sweep whose schedule update was lost) gets no
    row: never twice. Returns the invitation ids whose reminder was written.
    """
    if not claims:
        return set()
    if session.bind.dialect.name != "postgresql":
        fresh = claim_numbers(session, claims, now)
        insert_reminder_rows(session, [row for row in rows if row["invitation_id"] in fresh])
        return fresh
    columns = list(rows[0])
    values = {f"c_{name}": [row[name] for row in rows] for name in columns}
    values.update(
        invitation_ids=[claim[0] for claim in claims],
        numbers=[claim[1] for claim in claims],
        kinds=[claim[2] for claim in claims],
        now=now,
    )
    statement = _claim_and_write(session.bind.dialect, tuple(columns))
    written = session.connection().exec_driver_sql(statement, values).all()
    enqueue_send(session, sorted(outbox_id for outbox_id, _invitation_id in written))
    return {invitation_id for _outbox_id, invitation_id in written}


_statements: dict = {}


def _claim_and_write(dialect, columns: tuple[str, ...]):
    """The one statement of write_reminders on PostgreSQL: claim the numbers, then write the claimed ones' rows."""
    if columns not in _statements:
        outbox = OutboxMessage.__table__
        arrays = "".join(f", CAST(%(c_{name})b AS {outbox.c[name].type.compile(dialect)}[])" for name in columns)
        names = ", ".join(columns)
        _statements[columns] = f"""
            WITH wanted AS (
                SELECT wanted.*, nextval('{OUTBOX_SEQUENCE}') AS outbox_id
                FROM unnest(CAST(%(invitation_ids)b AS INTEGER[]), CAST(%(numbers)b AS INTEGER[]), CAST(%(kinds)b AS VARCHAR[]){arrays})
                    WITH ORDINALITY AS wanted (claim_invitation_id, claim_number, claim_kind, {names}, position)
            ),
            claimed AS (
                INSERT INTO reminder_sends (invitation_id, number, kind, created_at, outbox_id)
                SELECT claim_invitation_id, claim_number, claim_kind, %(now)s, outbox_id FROM wanted
                ON CONFLICT DO NOTHING
                RETURNING outbox_id
            )
            INSERT INTO outbox (id, {names})
            SELECT wanted.outbox_id, {", ".join(f"wanted.{name}" for name in columns)}
            FROM claimed JOIN wanted ON wanted.outbox_id = claimed.outbox_id
            ORDER BY wanted.position
            RETURNING id, invitation_id
        """
    return _statements[columns]


def reschedule(session, schedules: list[dict]):
    """Set each claimed invitation's next look ({"invitation", "later", "count"}) in one statement."""
    if not schedules:
        return
    table = Invitation.__table__
    if session.bind.dialect.name != "postgresql":
        session.connection().execute(
            table.update()
            .where(table.c.id == bindparam("invitation"))
            .values(next_reminder_at=bindparam("later"), reminder_count=bindparam("count")),
            schedules,
        )
        return
    session.connection().exec_driver_sql(
        _RESCHEDULE,
        {
            "ids": [schedule["invitation"] for schedule in schedules],
            "laters": [schedule["later"] for schedule in schedules],
            "counts": [schedule["count"] for schedule in schedules],
        },
    )


_RESCHEDULE = """
    UPDATE invitations SET next_reminder_at = schedule.later, reminder_count = schedule.count
    FROM unnest(CAST(%(ids)b AS INTEGER[]), CAST(%(laters)b AS TIMESTAMP WITH TIME ZONE[]), CAST(%(counts)b AS INTEGER[]))
        AS schedule (id, later, count)
    WHERE invitations.id = schedule.id
"""
