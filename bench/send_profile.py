"""The send job's cost per message, in process: SQL statements, commits, Redis calls and CPU, with no timing noise.

    .venv/bin/python bench/send_profile.py            # SQLite and PostgreSQL, 1,000 invitations each
    .venv/bin/python bench/send_profile.py --quick    # SQLite, 200 invitations
    .venv/bin/python bench/send_profile.py --cprofile # and the top of a cProfile of the SQLite run

`send_outbox` runs in this process over invitation rows against the Twilio
double (in a process of its own), with a real redis-server pacing at a rate
that never holds. Statements and commits are counted with SQLAlchemy events,
Redis calls with a counting connection, CPU with `time.process_time` of this
process (the job and its lanes; the double is elsewhere): figures that do not
depend on how busy the machine is. cProfile sees the calling thread only:
run `--cprofile` with SVAR_SEND_CONCURRENCY=1 (the job then sends in it).
Environment: BENCH_MESSAGES (default 1000), SVAR_SEND_BATCH (default 50),
SVAR_SEND_CONCURRENCY (default 4; SQLite runs at most 2, workers/send.py SQLITE_LANES).
"""
import cProfile
import os
import pstats
import subprocess
import sys
import threading
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench import common  # noqa: E402
from bench.send import queue_invitations  # noqa: E402
from service.infra import db  # noqa: E402
from service.infra import runtime as runtimes  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.infra.runtime import Runtime  # noqa: E402
from workers.send import send_outbox  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 200 if common.QUICK else 1000))
BATCH = int(os.environ.get("SVAR_SEND_BATCH", 50))
PROFILE = "--cprofile" in sys.argv


# The lanes of a job count from several threads.
_counting = threading.Lock()


class CountingRedis(Redis):
    """A Redis client that counts the commands it sends (a pipeline counts once)."""

    calls = 0

    def execute_command(self, *args, **options):
        with _counting:
            CountingRedis.calls += 1
        return super().execute_command(*args, **options)


class Counts:
    """Statements and commits on every engine of this process."""

    def __init__(self):
        self.statements = 0
        self.commits = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)

    def _statement(self, *_args):
        with _counting:
            self.statements += 1

    def _commit(self, *_args):
        with _counting:
            self.commits += 1


DOUBLE = """
import sys, time
from tests.doubles.twilio_api import TwilioApiDouble
print(TwilioApiDouble().start().url, flush=True)
sys.stdin.read()
"""


class DoubleProcess:
    """The Twilio double in a process of its own, so this process's CPU is the sender's alone."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", DOUBLE], cwd=common.ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *_exc):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def run(backend: str, folder: str, redis_url: str, double_url: str, counts: Counts) -> dict:
    url = common.fresh_database(backend, folder, name="profile")
    config = common.bench_config(url, redis_url, twilio_api_base_url=double_url, sms_rate=1e6, send_batch=BATCH)
    runtime = Runtime(config, redis=CountingRedis.from_url(redis_url))
    runtimes.install(runtime)
    ids = queue_invitations(runtime, MESSAGES)
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    # One batch first: connections, the SDK client and compiled statements warm, as in a worker.
    send_outbox(batches[0])
    statements, commits, redis_calls = counts.statements, counts.commits, CountingRedis.calls
    # Clocked by this thread's CPU: waits do not count.
    profiler = cProfile.Profile(time.thread_time) if PROFILE else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for batch in batches[1:]:
        send_outbox(batch)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sent = sum(len(batch) for batch in batches[1:])
    with runtime.session() as session:
        left = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent"))
    runtimes.install(None)
    if profiler:
        print(f"-- cProfile, {backend}, top 25 by cumulative time")
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("BENCH_TOP", 25)))
        if os.environ.get("BENCH_CALLERS"):
            stats.print_callers(os.environ["BENCH_CALLERS"])
    return {
        "backend": backend,
        "sent": sent,
        "left": left,
        "statements": (counts.statements - statements) / sent,
        "commits": (counts.commits - commits) / sent,
        "redis": (CountingRedis.calls - redis_calls) / sent,
        "cpu_ms": cpu * 1000 / sent,
        "rate": sent / wall,
    }


def main():
    common.print_machine()
    lanes = os.environ.get("SVAR_SEND_CONCURRENCY", "4")
    print(f"{MESSAGES} invitations, {BATCH} per job, {lanes} lanes (at most 2 on SQLite), send_outbox in process (the first job is a warm-up)")
    counts = Counts()
    rows = []
    with tempfile.TemporaryDirectory() as folder, common.redis_server() as redis_url, DoubleProcess() as double:
        for backend in (["sqlite"] if common.QUICK else common.backends()):
            figures = run(backend, folder, redis_url, double.url, counts)
            rows.append([figures["backend"], figures["sent"], figures["left"], f"{figures['statements']:.1f}",
                         f"{figures['commits']:.2f}", f"{figures['redis']:.1f}", f"{figures['cpu_ms']:.2f}", figures["rate"]])
            db.dispose_all()
    common.table(["database", "sent", "left", "statements/msg", "commits/msg", "redis calls/msg", "CPU ms/msg (sender)", "sends/s (in process)"], rows)


if __name__ == "__main__":
    main()
