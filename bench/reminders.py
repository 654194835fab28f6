"""Reminder sweep: 1,000,000 invitations, 10,000 of them due: find, write and queue them (workers/reminders.py).

    .venv/bin/python bench/reminders.py            # 1,000,000 / 10,000, SQLite and PostgreSQL
    .venv/bin/python bench/reminders.py --quick    # 20,000 / 200: the smoke test
    BENCH_SWEEPERS=1 .venv/bin/python bench/reminders.py   # PostgreSQL's batches one at a time

The rows are written below SQLAlchemy (COPY on PostgreSQL, the driver's
executemany on SQLite: common.fast_invitations); the due ones were invited
four days ago (the first reminder, after three days, is due), the rest later.
The baseline is finding the due ids alone (the sweep's first query, by the
next_reminder_at index) and writing as many bare outbox rows in one executemany.
On PostgreSQL the table also gives the server's side of the sweep, which does
not depend on how busy the machine is: the CPU of the sweep's backends (the
server is local) and the WAL it wrote.
"""
import os
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench import common  # noqa: E402
from service.infra import db  # noqa: E402
from service.infra import runtime as runtimes  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import ReminderSend  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.infra.queue import SEND_QUEUE  # noqa: E402
from service.infra.runtime import Runtime  # noqa: E402
from workers import reminders as reminder_sweep  # noqa: E402
from workers.reminders import sweep_reminders  # noqa: E402

TOTAL = int(os.environ.get("BENCH_INVITATIONS", 20_000 if common.QUICK else 1_000_000))
DUE = int(os.environ.get("BENCH_DUE", 200 if common.QUICK else 10_000))
# Batches written at once on PostgreSQL (workers.reminders.SWEEPERS); 1 for the serial sweep.
SWEEPERS = int(os.environ.get("BENCH_SWEEPERS", reminder_sweep.SWEEPERS))


def build(runtime, now) -> int:
    """TOTAL invitations; every (TOTAL // DUE)th is due now, the others days from now."""
    campaign_id = common.open_campaign(runtime, now - timedelta(days=5))
    step = TOTAL // DUE
    started = time.perf_counter()
    common.fast_invitations(
        runtime, campaign_id, count=TOTAL,
        invited_at=lambda index: now - timedelta(days=4) if index % step == 0 else now - timedelta(days=1),
        next_reminder_at=lambda index: now - timedelta(hours=1) if index % step == 0 else now + timedelta(days=2, seconds=index),
    )
    common.analyse(runtime.config.database_url)
    return time.perf_counter() - started


def baseline(runtime, now) -> float:
    """The due ids by the index, and as many bare outbox rows in one executemany (rolled back)."""
    engine = db.engine_for(runtime.config.database_url)
    started = time.perf_counter()
    with engine.connect() as connection:
        ids = connection.execute(select(Invitation.id).where(Invitation.next_reminder_at <= now)).scalars().all()
        connection.execute(insert(OutboxMessage), [
            {"channel": "sms", "body": "Påminnelse", "kind": "reminder", "invitation_id": ident, "status": "pending",
             "attempts": 0, "created_at": now, "updated_at": now} for ident in ids
        ])
        connection.rollback()
    return time.perf_counter() - started


@contextmanager
def server_side(url: str):
    """Yields a dict that gets the server CPU seconds and WAL MiB of what ran inside; PostgreSQL only."""
    figures = {"cpu": "-", "wal": "-"}
    engine = db.engine_for(url)
    if engine.dialect.name != "postgresql":
        yield figures
        return
    cpu_before, wal_before = _backends(engine)
    yield figures
    cpu_after, wal_after = _backends(engine)
    # Backends that came and went inside are missed: the sweep's stay in the pool.
    figures["cpu"] = sum(seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items())
    figures["wal"] = (wal_after - wal_before) / 2**20


def _backends(engine) -> tuple[dict, int]:
    """CPU seconds of each backend on the bench database but this one, and the WAL position."""
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars().all()
        wal = int(connection.execute(text("SELECT pg_current_wal_lsn() - '0/0'")).scalar())
    seconds = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        seconds[pid] = times.user + times.system
    return seconds, wal


def run(backend: str, folder: str, redis_url: str) -> list:
    url = common.fresh_database(backend, folder)
    runtime = Runtime(common.bench_config(url, redis_url))
    runtimes.install(runtime)
    runtime.redis.flushdb()
    now = utcnow()
    generated = build(runtime, now)
    floor = baseline(runtime, now)
    with server_side(url) as server:
        started, cpu_started = time.perf_counter(), time.process_time()
        written = sweep_reminders(now)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    with runtime.session() as session:
        records = session.scalar(select(func.count()).select_from(ReminderSend))
        rows = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    jobs = runtime.queue(SEND_QUEUE).count
    return [backend, TOTAL, DUE, written, records, rows, jobs, generated, elapsed, cpu, server["cpu"], server["wal"], floor,
            f"{elapsed / floor:.0f}x"]


def main():
    reminder_sweep.SWEEPERS = SWEEPERS
    common.print_machine()
    rows = common.per_backend(run)
    common.table(["database", "invitations", "due", "written", "reminder rows", "outbox rows", "send jobs",
                  "generate s", "sweep s", "sweep CPU s", "server CPU s", "WAL MiB", "baseline s", "of baseline"], rows)
    print(f"{SWEEPERS} batch(es) at once on PostgreSQL (BENCH_SWEEPERS)")
    print("target: 10,000 due of 1,000,000 found, written and queued in 2 s or less")


if __name__ == "__main__":
    main()
