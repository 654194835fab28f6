"""Sending: RQ workers draining the outbox against the loopback Twilio double, and the pace per sender.

    .venv/bin/python bench/send.py            # 1, 2 and 4 workers; then pacing at 50 SMS/s
    .venv/bin/python bench/send.py --quick    # 1 worker, a few hundred messages: the smoke test
    .venv/bin/python bench/send.py --replies  # only the reply run, on each database

Invitation rows (the launch wave: each passes the send gate and the Redis
pace) are queued `send_batch` ids per job, as the launch queues them, to
`rq worker send -w workers.rq_worker.PreloadingWorker` processes (as the
Procfile starts them) that are already listening; the time runs from the
enqueue until no row is pending. Each job sends through
`send_concurrency` lanes (at most two on SQLite). A last run per database sends replies (no
send gate, paced but never held), each pushed on its own as an inbound
step's after-commit hook pushes it (workers/replies.py: one drain job
sends them in batches), to show what a reply costs the worker and the caller. The baseline
is the same double answering a plain loop of HTTP posts from one process
(`requests`, one session), the most a sender could do with no database at
all.
Environment: BENCH_MESSAGES (default 6000), BENCH_REPLIES (default a
quarter of it), SVAR_SEND_BATCH (default 50), SVAR_SEND_CONCURRENCY (default 4).
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
import requests  # noqa: E402
from rq import Worker  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import common  # noqa: E402
from service.infra import db  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.infra import runtime as runtimes  # noqa: E402
from service.infra.runtime import Runtime  # noqa: E402
from tests.doubles.twilio_api import TwilioApiDouble  # noqa: E402
from workers.schedule import sweep_outbox  # noqa: E402
from service.infra.queue import PIPELINE_JOBS  # noqa: E402
from service.infra.queue import SEND_QUEUE  # noqa: E402
from service.infra.queue import SEND_RETRY  # noqa: E402
from service.infra.queue import enqueue_all  # noqa: E402
from workers.send_lanes import SQLITE_LANES  # noqa: E402
from service.outbox.send_jobs import enqueue_send  # noqa: E402
from workers.send import send_outbox  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 300 if common.QUICK else 6000))
BATCH = int(os.environ.get("SVAR_SEND_BATCH", 50))
LANES = int(os.environ.get("SVAR_SEND_CONCURRENCY", 4))
# Replies are queued one at a time: fewer of them, their cost shows all the same.
REPLIES = int(os.environ.get("BENCH_REPLIES", max(100, MESSAGES // 4)))
ONLY_REPLIES = "--replies" in sys.argv
WORKERS = [1] if common.QUICK else [1, 2, 4]
PACE_RATE = 50.0
PACE_SECONDS = 2 if common.QUICK else 10


def queue_invitations(runtime, count: int, kind: str = "invitation") -> list[int]:
    """`count` invitations and their pending outbox rows (invitations, or replies in their conversations); returns the outbox ids."""
    campaign_id = common.open_campaign(runtime, utcnow(), name=f"Send {time.time_ns()}")
    phones = [f"+4792{index:06d}" for index in range(count)]
    common.bulk_invitations(runtime, campaign_id, phones=phones, status="created")
    engine = db.engine_for(runtime.config.database_url)
    with runtime.session() as session:
        invitations = session.execute(
            select(Invitation.id, Invitation.address_enc).where(Invitation.campaign_id == campaign_id).order_by(Invitation.id)
        ).all()
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(insert(OutboxMessage), [
            {"channel": "sms", "address_enc": address, "body": "Hei! Svar på undersøkelsen: send et svar hit.", "kind": kind,
             "campaign_id": campaign_id, "invitation_id": invitation_id, "status": "pending", "attempts": 0,
             "created_at": now, "updated_at": now}
            for invitation_id, address in invitations
        ])
    with runtime.session() as session:
        return list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.campaign_id == campaign_id).order_by(OutboxMessage.id)))


def queue_replies(runtime, ids: list[int]) -> float:
    """Each reply queued on its own, as an inbound step's after-commit hook queues it; returns the caller's CPU seconds for it."""
    started = time.process_time()
    for outbox_id in ids:
        enqueue_all(runtime, [], [outbox_id])
    return time.process_time() - started


def enqueue(runtime, ids: list[int], per_job: int = BATCH):
    """As the launch queues a wave (`send_batch` ids per job), or `per_job` ids per job, in pipelines of jobs."""
    if per_job == runtime.config.send_batch:
        with runtime.transaction() as session:
            enqueue_send(session, ids)
        return
    jobs = [(SEND_QUEUE, send_outbox, (ids[start : start + per_job],), {"retry": SEND_RETRY}) for start in range(0, len(ids), per_job)]
    for start in range(0, len(jobs), PIPELINE_JOBS):
        enqueue_all(runtime, jobs[start : start + PIPELINE_JOBS])


def pending(runtime, ids) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.id.in_(ids) if len(ids) < 30_000 else OutboxMessage.id >= min(ids),
            OutboxMessage.status.in_(("pending", "sending"))))


class Workers:
    """`rq worker send` processes as the Procfile starts them (burst: until the queue is empty), and their peak memory."""

    def __init__(self, count: int, environment: dict, redis_url: str, burst: bool = True):
        command = [str(common.ROOT / ".venv/bin/rq"), "worker", "send", "-w", "workers.rq_worker.PreloadingWorker",
                   "--url", redis_url, "--logging_level", "WARNING"] + (["--burst"] if burst else [])
        self.processes = [
            subprocess.Popen(command, cwd=common.ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(count)
        ]
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self):
        while not self._stop.wait(0.05):
            for process in self.processes:
                try:
                    tree = [psutil.Process(process.pid)] + psutil.Process(process.pid).children(recursive=True)
                    self.peak_rss = max([self.peak_rss] + [member.memory_info().rss / 2**20 for member in tree])
                except psutil.Error:
                    pass

    def wait(self, timeout: float):
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.wait(timeout=max(1, deadline - time.monotonic()))
        self._stop.set()
        failures = [process.stderr.read().decode()[-2000:] for process in self.processes if process.returncode]
        if failures:
            raise SystemExit("rq worker failed:\n" + failures[0])

    def cpu_seconds(self) -> float:
        """CPU time of the workers so far, their finished work horses included (a load-independent figure)."""
        total = 0.0
        for process in self.processes:
            times = psutil.Process(process.pid).cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def stop(self):
        """A warm shutdown: each worker finishes its job and exits."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        self.wait(timeout=60)


def drain(runtime, config, redis_url, workers: int, count: int, per_job: int = BATCH, kind: str = "invitation") -> dict:
    """Workers started and listening first (their start-up is not the send path), then the rows queued and timed till sent."""
    ids = queue_invitations(runtime, count, kind)
    runtime.redis.flushdb()
    pool = Workers(workers, common.config_environment(config), redis_url, burst=False)
    try:
        common.wait_for(lambda: Worker.count(connection=runtime.redis) == workers, "the rq workers", seconds=120)
        cpu = pool.cpu_seconds()
        started = time.perf_counter()
        caller = queue_replies(runtime, ids) if kind == "reply" else None
        if kind != "reply":
            enqueue(runtime, ids, per_job)
        deadline = time.monotonic() + 600
        left = count
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = pending(runtime, ids)
        elapsed = time.perf_counter() - started
        # The last work horse may still be exiting: its CPU counts once it is reaped.
        time.sleep(0.5)
        cpu = pool.cpu_seconds() - cpu
    finally:
        pool.stop()
    sent = count - left
    return {"sent": sent, "left": left, "rate": sent / elapsed, "seconds": elapsed, "rss": pool.peak_rss,
            "cpu_ms": cpu * 1000 / max(1, sent), "caller_ms": caller * 1000 / count if caller is not None else None}


def baseline(double_url: str, count: int) -> float:
    """Posts per second to the double from one process: no database, no queue."""
    session = requests.Session()
    url = f"{double_url}/2010-04-01/Accounts/{common.ACCOUNT_SID}/Messages.json"
    started = time.perf_counter()
    for index in range(count):
        session.post(url, data={"To": f"+4792{index:06d}", "From": "+4759440000", "Body": "Hei"}, auth=(common.ACCOUNT_SID, "x"))
    return count / (time.perf_counter() - started)


def pacing(runtime, config, redis_url) -> dict:
    """Two workers, a provider rate of PACE_RATE and a one-second backlog; the outbox sweeper every 200 ms.

    Workers run as in production (started once, not --burst); the outbox
    sweeper, which production runs every minute against a backlog of ten
    minutes, runs here every 200 ms with a grace of 200 ms, so held rows and
    the rest of their batches come back as the one-second backlog drains.
    """
    paced = common.bench_config(config.database_url, redis_url, twilio_api_base_url=config.twilio_api_base_url,
                                sms_rate=PACE_RATE, sms_backlog=1.0, send_batch=BATCH, pending_grace=0.2)
    count = int(PACE_RATE * (PACE_SECONDS + 2))
    ids = queue_invitations(runtime, count)
    runtime.redis.flushdb()
    runtimes.install(Runtime(paced))
    pool = Workers(2, common.config_environment(paced), redis_url, burst=False)
    try:
        common.wait_for(lambda: Worker.count(connection=runtime.redis) == 2, "the rq workers", seconds=120)
        started = utcnow()
        enqueue(runtime, ids)
        deadline = time.monotonic() + PACE_SECONDS + 30
        while pending(runtime, ids) and time.monotonic() < deadline:
            time.sleep(0.2)
            sweep_outbox()
    finally:
        pool.stop()
        runtimes.install(None)
    with runtime.session() as session:
        times = sorted(session.scalars(select(OutboxMessage.sent_at).where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_not(None))))
    # The first second's backlog goes at once; the pace shows after it.
    steady = [moment for moment in times if (moment - started).total_seconds() >= 1.5]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]).total_seconds() if len(steady) > 1 else 0.0
    return {"configured": PACE_RATE, "measured": rate, "sent": len(times), "of": count}


def main():
    common.print_machine()
    print(f"{MESSAGES} invitations per run, {BATCH} per job, {LANES} lanes per job "
          f"(at most {SQLITE_LANES} on SQLite), "
          f"rq worker -w workers.rq_worker.PreloadingWorker (send jobs in process)")
    rows = []
    with tempfile.TemporaryDirectory() as folder, common.redis_server() as redis_url:
        double = TwilioApiDouble().start()
        try:
            ceiling = baseline(double.url, min(MESSAGES, 2000))
            for backend in (["sqlite"] if common.QUICK else common.backends()):
                url = common.fresh_database(backend, folder)
                config = common.bench_config(url, redis_url, twilio_api_base_url=double.url, sms_rate=1e6, send_batch=BATCH)
                runtime = Runtime(config)
                runs = [] if ONLY_REPLIES else [(workers, MESSAGES, BATCH, "invitation") for workers in WORKERS]
                for workers, count, per_job, kind in runs + [(1, REPLIES, 1, "reply")]:
                    figures = drain(runtime, config, redis_url, workers, count, per_job, kind)
                    caller = f"{figures['caller_ms']:.2f}" if figures["caller_ms"] is not None else ""
                    rows.append([backend, kind, workers, "pushed" if kind == "reply" else per_job, figures["sent"], figures["seconds"],
                                 figures["rate"], f"{figures['rate'] / ceiling:.0%}", f"{figures['cpu_ms']:.1f}", caller, figures["rss"]])
                if backend == "sqlite" and not ONLY_REPLIES:
                    paced = pacing(runtime, config, redis_url)
        finally:
            double.stop()
    print(f"baseline: one process posting to the double with no database: {ceiling:,.0f} posts/s")
    common.table(["database", "messages", "workers", "per job", "sent", "seconds", "sends/s", "of baseline", "worker CPU ms/msg",
                  "caller CPU ms/msg", "peak RSS MB"], rows)
    if ONLY_REPLIES:
        return
    error = paced["measured"] / paced["configured"] - 1
    print(f"pacing: configured {paced['configured']:g} SMS/s, measured {paced['measured']:.1f} SMS/s after the backlog "
          f"({error:+.1%}; {paced['sent']} of {paced['of']} sent)")


if __name__ == "__main__":
    main()
