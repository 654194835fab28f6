"""Progress and results pages with 1,000,000 invitations and 500,000 responses: latency per page.

    .venv/bin/python bench/pages.py            # 1,000,000 / 500,000, SQLite and PostgreSQL
    .venv/bin/python bench/pages.py --quick    # 10,000 / 5,000: the smoke test

The app is called in process (Flask's test client): the figures are the
server's time for a page, without a network. Each page is viewed VIEWS
times. Before the views, the worker jobs run once as they would in service:
`warm_results` (what a pool flush queues: the protected table computed for
every reader, service/answer_side/results_cache.py) and `refresh_progress` (what rq cron
does every 30 s for a large campaign someone follows,
service/progress/snapshot.py); their times are printed as the cost moved off
the pages. The baseline is the health check page.

Rows are written with the driver directly (executemany of tuples on SQLite,
COPY on PostgreSQL): the generator is not what is measured.
"""
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from service.infra import db  # noqa: E402
from service import create_app  # noqa: E402
from service.infra import runtime as runtimes  # noqa: E402
from service.accounts.tokens import create_token  # noqa: E402
from service.models import Campaign  # noqa: E402
from service.models import User  # noqa: E402
from service.models import random_id  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.accounts.passwords import hash_password  # noqa: E402
from service.surveys import survey_of  # noqa: E402
from tests.service.admin_support import login  # noqa: E402
from workers.progress_snapshots import refresh_progress  # noqa: E402
from workers.store import warm_results  # noqa: E402

INVITATIONS = int(os.environ.get("BENCH_INVITATIONS", 10_000 if common.QUICK else 1_000_000))
RESPONSES = int(os.environ.get("BENCH_RESPONSES", 5_000 if common.QUICK else 500_000))
VIEWS = int(os.environ.get("BENCH_VIEWS", 5 if common.QUICK else 20))
PASSWORD = "bench-password-1234"
STATUSES = ["completed"] * 50 + ["invited"] * 25 + ["delivered"] * 10 + ["started"] * 10 + ["opted_out"] * 3 + ["failed"] * 2


def answer_values(survey, draw) -> list[tuple[str, object, float | None]]:
    """One plausible answer per question: scales 1-6 or don't know, first-ish choices, a few comments."""
    values = []
    for question in survey.questions:
        kind = question.type.value
        if kind == "scale":
            value = draw.choice([1, 2, 3, 4, 4, 5, 5, 5, 6, 6, "dont_know"])
        elif kind == "yesno":
            value = draw.choice(["yes", "no"])
        elif kind in ("choice", "multi"):
            value = draw.choice([choice.id for choice in question.choices])
        elif kind == "number":
            value = draw.randint(0, 40)
        else:
            value = draw.choice([None, None, None, "Bra program", "Mer norskundervisning"])
        if value is not None:
            values.append((question.id, value, float(value) if isinstance(value, int) else None))
    return values


INVITATION_COLUMNS = ("campaign_id", "unit_id", "channel", "language", "code_hash", "address_enc", "address_hash", "status",
                      "reminder_count", "completed_after", "created_at")
RESPONSE_COLUMNS = ("id", "campaign_id", "unit_id", "language", "complete", "mode")
ANSWER_COLUMNS = ("response_id", "question_id", "value", "number")


def build(runtime, campaign_id: int):
    draw = random.Random(2026)
    units = common.unit_ids(runtime, campaign_id)
    with runtime.session() as session:
        survey = survey_of(session.get(Campaign, campaign_id).survey_version)
    address = runtime.vault.encrypt("+4791000000")
    prefix = secrets.token_hex(4)
    now = utcnow()
    invitations = (
        (campaign_id, units[index % len(units)], "sms", "nb", f"{prefix}{index:012d}", address, f"{prefix}-{index:012d}",
         STATUSES[index % 100], 0, index % 3 if STATUSES[index % 100] == "completed" else None, now)
        for index in range(INVITATIONS)
    )
    with db.engine_for(runtime.config.database_url).begin() as connection:
        raw = connection.connection.driver_connection
        write_rows(raw, "invitations", INVITATION_COLUMNS, invitations)
        for start in range(0, RESPONSES, 50_000):
            responses, answers = [], []
            for index in range(start, min(RESPONSES, start + 50_000)):
                ident = random_id()
                responses.append((ident, campaign_id, units[index % len(units)], "nb", True, "sms"))
                answers += [(ident, question, json.dumps(value), number) for question, value, number in answer_values(survey, draw)]
            write_rows(raw, "responses", RESPONSE_COLUMNS, responses)
            write_rows(raw, "answers", ANSWER_COLUMNS, answers)
        # What the release keeps as it writes responses (service/answer_side/releases.py).
        write_rows(raw, "response_counts", ("campaign_id", "responses"), [(campaign_id, RESPONSES)])
    common.analyse(runtime.config.database_url)


def write_rows(raw, table: str, columns: tuple, rows):
    """Bulk rows straight through the driver: COPY on PostgreSQL, executemany of tuples on SQLite."""
    names = ", ".join(columns)
    if hasattr(raw, "cursor") and raw.__class__.__module__.startswith("psycopg"):
        with raw.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    rows = list(rows)
    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                    [tuple(_sqlite_value(value) for value in row) for row in rows])


def _sqlite_value(value):
    # As SQLAlchemy's DateTime stores it on SQLite.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if hasattr(value, "strftime") else value


def worker_job(job, *args) -> float:
    """Run a worker job in this process as RQ would; seconds of CPU it took."""
    started = time.process_time()
    job(*args)
    return time.process_time() - started


def timed(client, path, headers=None) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers or {})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return elapsed


def run(backend: str, folder: str, redis_url: str) -> list:
    url = common.fresh_database(backend, folder)
    app = create_app(common.bench_config(url, redis_url))
    runtime = app.extensions["svar"]
    runtime.redis.flushdb()
    campaign_id = common.open_campaign(runtime, utcnow(), units=12)
    with runtime.transaction() as session:
        organisation_id = session.get(Campaign, campaign_id).organisation_id
        user = User(organisation_id=organisation_id, email="bench@x.no", password_hash=hash_password(PASSWORD), role="admin")
        session.add(user)
        session.flush()
        token = create_token(session, user, "bench")
    started = time.perf_counter()
    build(runtime, campaign_id)
    generated = time.perf_counter() - started
    runtimes.install(runtime)
    jobs = {"warm_results": worker_job(warm_results, campaign_id), "refresh_progress": worker_job(refresh_progress, campaign_id)}
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    browser = app.test_client()
    assert login(browser, "bench@x.no", PASSWORD).status_code in (200, 302)
    pages = [
        ("health check (baseline)", api, "/healthz", None),
        ("API progress", api, f"/api/v1/campaigns/{campaign_id}/progress", bearer),
        ("admin progress", browser, f"/admin/campaigns/{campaign_id}", None),
        ("API results", api, f"/api/v1/campaigns/{campaign_id}/results", bearer),
        ("admin results", browser, f"/admin/campaigns/{campaign_id}/results", None),
    ]
    rows = []
    floor = None
    for name, client, path, headers in pages:
        times = [timed(client, path, headers) for _ in range(VIEWS)]
        warm = times[1:]
        p95 = common.percentile(warm, 0.95)
        floor = floor or common.percentile(warm, 0.50)
        rows.append([backend, name, times[0], common.percentile(warm, 0.50), p95, f"{p95 / floor:.0f}x", "yes" if p95 <= 150 else "NO"])
    print(f"{backend}: {INVITATIONS:,} invitations and {RESPONSES:,} responses generated in {generated:.0f} s")
    print(f"{backend}: worker jobs before the views (CPU s): " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in jobs.items()))
    return rows


def main():
    common.print_machine()
    rows = [row for rows_of_backend in common.per_backend(run) for row in rows_of_backend]
    common.table(["database", "page", "first ms", "p50 ms", "p95 ms", "p95 of baseline p50", "<= 150 ms"], rows)
    print(json.dumps({"views per page": VIEWS}))


if __name__ == "__main__":
    main()
