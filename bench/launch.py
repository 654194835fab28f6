"""Launch fan-out: 100,000 respondents from CSV to rows and queued invitations, on SQLite and PostgreSQL.

    .venv/bin/python bench/launch.py            # 100,000 rows
    .venv/bin/python bench/launch.py --quick    # 2,000 rows: the smoke test

The CSV and the upload path are bench/respondents_upload.py's (the campaigns
engineer's figures for one database); this adds a real Redis (the send jobs
are really enqueued), both databases and the baseline: the same number of
bare invitation rows written with one executemany, no parsing, hashing or
encryption.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import common  # noqa: E402
from bench.respondents_upload import csv_body  # noqa: E402
from bench.respondents_upload import draft  # noqa: E402
from service import campaigns  # noqa: E402
from service import create_app  # noqa: E402
from service.models import Campaign  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.queue import SEND_QUEUE  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", 2000 if common.QUICK else 100_000))


def run(backend: str, folder: str, redis_url: str) -> list:
    url = common.fresh_database(backend, folder)
    app = create_app(common.bench_config(url, redis_url))
    runtime = app.extensions["svar"]
    runtime.redis.flushdb()
    campaign_id, token = draft(runtime)
    body = csv_body(ROWS)
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
    with runtime.session() as session:
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    jobs = runtime.queue(SEND_QUEUE).count
    # The baseline: as many bare rows, one executemany, in another campaign.
    other = common.open_campaign(runtime, utcnow(), name="Baseline")
    floor_started = time.perf_counter()
    common.bulk_invitations(runtime, other, count=response.get_json()["added"], chunk=ROWS)
    floor = time.perf_counter() - floor_started
    total = launched - started
    # This process's CPU time as well: on a busy machine wall time mostly measures the others.
    return [backend, ROWS, response.get_json()["added"], queued, jobs, uploaded - started, cpu_uploaded - cpu_started,
            launched - uploaded, cpu_launched - cpu_uploaded, total, floor, f"{total / floor:.0f}x"]


def main():
    common.print_machine()
    rows = common.per_backend(run)
    common.table(["database", "CSV rows", "added", "outbox rows", "send jobs", "upload s", "upload CPU s", "launch s", "launch CPU s",
                  "total s", "bare insert s", "of baseline"], rows)
    print("target: 100,000 rows from CSV to queued invitations in 15 s or less")


if __name__ == "__main__":
    main()
