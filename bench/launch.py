"""Launch fan-out: 100,000 respondents from CSV to rows and queued invitations, on SQLite and PostgreSQL.

    .venv/bin/python bench/launch.py            # 100,000 rows
    .venv/bin/python bench/launch.py --quick    # 2,000 rows: the smoke test

The CSV and the upload path are bench/respondents_upload.py's (the campaigns
engineer's figures for one database); this adds a real Redis (the send jobs
are really enqueued), both databases and the baseline: the same number of
bare invitation rows, shaped like the upload's (random 64-character hashes,
a ciphertext of the real length), written the fastest way the stack has
(COPY on PostgreSQL, the driver's executemany on SQLite: service/infra/bulk_sql.py)
in one transaction (with the upload's page cache on SQLite); no parsing,
hashing or encryption. On PostgreSQL the
database server's CPU time (its processes for the bench database) is shown
too: with this process's, it is what the machine's load does not change.
"""
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import common  # noqa: E402
from bench.respondents_upload import csv_body  # noqa: E402
from bench.respondents_upload import draft  # noqa: E402
from service.dispatch import campaigns  # noqa: E402
from service import create_app  # noqa: E402
from service.infra import db  # noqa: E402
from service.infra.bulk_sql import insert_rows  # noqa: E402
from service.infra.bulk_sql import roomy_cache  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import Campaign  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.infra.queue import SEND_QUEUE  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", 2000 if common.QUICK else 100_000))


def server_cpu(backend: str) -> float:
    """CPU seconds used so far by the PostgreSQL processes serving the bench database (0 for SQLite: it runs in this process)."""
    if backend != "postgresql":
        return 0.0
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(common.POSTGRES_BENCH_DB in part.split() for part in process.info["cmdline"] or []):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
    return total


def bare_rows(runtime, campaign_id: int, count: int) -> float:
    """Seconds to write `count` invitation rows like the upload's, the fastest way the stack has, in one transaction."""
    units = common.unit_ids(runtime, campaign_id)
    address = runtime.vault.encrypt("+4791234567")
    draw = random.Random(7)
    rows = [(units[index % len(units)], None, "sms", "nb", f"{draw.getrandbits(256):064x}", address, f"{draw.getrandbits(256):064x}")
            for index in range(count)]
    started = time.perf_counter()
    with db.engine_for(runtime.config.database_url).begin() as connection, roomy_cache(connection):
        insert_rows(connection, Invitation.__table__, ["unit_id", "group_id", "channel", "language", "code_hash", "address_enc", "address_hash"],
                    rows, constants={"campaign_id": campaign_id, "status": "created", "reminder_count": 0, "created_at": utcnow()})
    return time.perf_counter() - started


def run(backend: str, folder: str, redis_url: str) -> list:
    url = common.fresh_database(backend, folder)
    app = create_app(common.bench_config(url, redis_url))
    runtime = app.extensions["svar"]
    runtime.redis.flushdb()
    campaign_id, token = draft(runtime)
    body = csv_body(ROWS)
    server_started = server_cpu(backend)
    started, cpu_started = time.perf_counter(), time.process_time()
    response = app.test_client().post(
        f"/api/v1/campaigns/{campaign_id}/respondents",
        headers={"Authorization": f"Bearer {token}"}, data=body, content_type="text/csv",
    )
    uploaded, cpu_uploaded = time.perf_counter(), time.process_time()
    assert response.status_code == 207, response.get_json()
    with runtime.transaction() as session:
        campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
    launched, cpu_launched = time.perf_counter(), time.process_time()
    server = server_cpu(backend) - server_started
    with runtime.session() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    jobs = runtime.queue(SEND_QUEUE).count
    # The baseline: as many bare rows in another campaign.
    other = common.open_campaign(runtime, utcnow(), name="Baseline")
    floor = bare_rows(runtime, other, response.get_json()["added"])
    total = launched - started
    # CPU times as well: on a busy machine wall time mostly measures the others.
    return [backend, ROWS, response.get_json()["added"], queued, jobs, uploaded - started, cpu_uploaded - cpu_started,
            launched - uploaded, cpu_launched - cpu_uploaded, server if backend == "postgresql" else "-", total, floor,
            f"{total / floor:.0f}x"]


def main():
    common.print_machine()
    rows = common.per_backend(run)
    common.table(["database", "CSV rows", "added", "outbox rows", "send jobs", "upload s", "upload CPU s", "launch s", "launch CPU s",
                  "server CPU s", "total s", "bare insert s", "of baseline"], rows)
    print("target: 100,000 rows from CSV to queued invitations in 15 s or less")


if __name__ == "__main__":
    main()
