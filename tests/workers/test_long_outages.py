"""Outages of minutes against the real processes, run as the Procfile runs them (`svar keep` around gunicorn,
`rq worker` and `rq cron workers/cron.py`): Redis SIGSTOPped for 60 s, PostgreSQL refusing the service's
database for 30 s. Each process waits or is restarted with backoff and goes on; no message is lost or sent twice,
with no status callbacks to help.

Outbox rows are written straight to the database, as a launch whose enqueue failed leaves them: only the clock's
outbox sweeper (every 2 s here) brings them to the worker, so the whole chain is tested.
"""
import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.infra import db
from service.infra import runtime as runtimes
from service.infra.embedded import free_port
from service.models import Base
from service.models import OutboxMessage
from service.infra.runtime import Runtime
from tests import outbox_rows
from tests.workers import processes

pytestmark = pytest.mark.redis
SVAR = os.path.join(os.path.dirname(sys.executable), "svar")
RQ = os.path.join(os.path.dirname(sys.executable), "rq")
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


class Stack:
    """web, worker and clock, each under `svar keep`, logging to one file."""

    def __init__(self, config, log):
        self.config, self.log = config, log
        self.keepers = {}

    def start(self):
        bind = self.config.public_base_url.removeprefix("http://")
        commands = {
            "web": [GUNICORN, "--bind", bind, "--workers", "1", "--worker-class", "gthread", "--threads", "4",
                    "--log-level", "warning", "service.wsgi:app"],
            "worker": [RQ, "worker", "--with-scheduler", "-w", processes.WORKER_CLASS, "--url", self.config.redis_url,
                       "send", "default"],
            "clock": [RQ, "cron", "--url", self.config.redis_url, "workers/cron.py"],
        }
        with open(self.log, "a") as sink:
            for name, command in commands.items():
                self.keepers[name] = subprocess.Popen(
                    [SVAR, "keep", "--", *command], cwd=processes.ROOT, env=processes.environment(self.config),
                    stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                )
        processes.wait_for(lambda: self.health() == 200, timeout=30, what="gunicorn")
        return self

    def health(self):
        """GET /healthz's status, or None if it did not answer within 10 s."""
        try:
            with urllib.request.urlopen(self.config.public_base_url + "/healthz", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def alive(self) -> dict:
        return {name: keeper.poll() is None for name, keeper in self.keepers.items()}

    def stop(self):
        for keeper in self.keepers.values():
            keeper.terminate()
        for keeper in self.keepers.values():
            try:
                keeper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                processes.kill(keeper)


def timed_health(stack):
    started = time.monotonic()
    status = stack.health()
    return status, time.monotonic() - started


def pending_rows(runtime, phones) -> list[int]:
    """Invitation messages committed but never queued."""
    return [outbox_rows.outbox_for_new_invitation(runtime, phone=phone)[0] for phone in phones]


def statuses(runtime, ids) -> list[str]:
    with runtime.session() as session:
        return [session.get(OutboxMessage, outbox_id).status for outbox_id in ids]


def all_sent(runtime, ids) -> bool:
    try:
        return set(statuses(runtime, ids)) <= {"sent", "delivered"}
    except Exception:
        return False  # the database is still coming back


def received(twilio_api, phones) -> Counter:
    return Counter(message["to"] for message in list(twilio_api.messages) if message["to"] in phones)


def outage_config(twilio_config, database_url, redis_url):
    return dataclasses.replace(
        twilio_config,
        database_url=database_url,
        redis_url=redis_url,
        public_base_url=f"http://127.0.0.1:{free_port()}",
        pending_grace=1.0,
        sending_grace=5.0,
        sweep_interval=2,
        sms_rate=1000.0,
        twilio_timeout=10.0,
        simulator=False,
        testing=False,
    )


def test_web_worker_and_clock_go_on_after_redis_stalls_for_60_seconds(twilio_config, database_url, twilio_api, tmp_path):
    twilio_api.deliver_after = None  # no status callbacks
    server = processes.RedisProcess(tmp_path).start()
    config = outage_config(twilio_config, database_url, server.url)
    runtime = Runtime(config)
    runtimes.install(runtime)
    stack = Stack(config, tmp_path / "stack.log").start()
    before = [f"+479100{n:04d}" for n in range(3)]
    during = [f"+479200{n:04d}" for n in range(3)]
    try:
        first = pending_rows(runtime, before)
        processes.wait_for(lambda: all_sent(runtime, first), timeout=30, what="the first rows, before the stall")
        os.kill(server.process.pid, signal.SIGSTOP)
        stalled = time.monotonic()
        try:
            # Written while Redis is stalled: nothing can queue them but the sweeper, once it runs again.
            second = pending_rows(runtime, during)
            status, seconds = timed_health(stack)
            assert (status, seconds < 10) == (503, True), (status, seconds)
            time.sleep(max(0.0, 60 - (time.monotonic() - stalled)))
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        resumed = time.monotonic()
        processes.wait_for(lambda: all_sent(runtime, second), timeout=90, what="the rows written during the stall")
        recovery = time.monotonic() - resumed
        assert stack.health() == 200
        assert stack.alive() == {"web": True, "worker": True, "clock": True}
    finally:
        stack.stop()
        runtimes.install(None)
        server.kill()
    log = (tmp_path / "stack.log").read_text()
    print(f"redis stall 60 s: sent {recovery:.1f} s after it ended; restarts: "
          f"{ {name: log.count(f'keep: {name} exited') for name in ('gunicorn', 'rq worker', 'rq cron')} }")
    counts = received(twilio_api, before + during)
    assert counts == Counter({phone: 1 for phone in before + during}), counts


@pytest.fixture
def own_postgres():
    """A PostgreSQL database of the test's own, next to TEST_DATABASE_URL's, that the test may close to connections."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    url = make_url(base)
    name = f"{url.database}_outage"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    own = url.set(database=name).render_as_string(hide_password=False)
    Base.metadata.create_all(db.engine_for(own))
    db.engine_for(own).dispose()
    try:
        yield own, admin, name
    finally:
        db.dispose_all()
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def close_database(admin, name):
    """No new connections, and every open one ended: what the service sees of a database restart or failover."""
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})


def open_database(admin, name):
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def test_web_worker_and_clock_go_on_after_the_database_refuses_them_for_30_seconds(
    twilio_config, twilio_api, own_postgres, real_redis, redis_server_url, tmp_path
):
    database_url, admin, name = own_postgres
    twilio_api.deliver_after = None  # no status callbacks
    twilio_api.hang_seconds = 3.0
    config = outage_config(twilio_config, database_url, redis_server_url)
    runtime = Runtime(config)
    runtimes.install(runtime)
    stack = Stack(config, tmp_path / "stack.log").start()
    before = [f"+479300{n:04d}" for n in range(3)]
    in_flight = [f"+479400{n:04d}" for n in range(2)]
    after = [f"+479500{n:04d}" for n in range(3)]
    try:
        first = pending_rows(runtime, before)
        processes.wait_for(lambda: all_sent(runtime, first), timeout=30, what="the first rows, before the outage")
        # Twilio is slow with the next two: the database goes away while the worker waits for its answers,
        # and is still away when they come (the worker holds two accepted messages it cannot record yet).
        requests = twilio_api.requests
        twilio_api.fail_next("hang", count=len(in_flight))
        second = pending_rows(runtime, in_flight)
        processes.wait_for(lambda: twilio_api.requests >= requests + 1, timeout=30, what="a send in flight")
        close_database(admin, name)
        closed = time.monotonic()
        try:
            status, seconds = timed_health(stack)
            assert (status, seconds < 10) == (503, True), (status, seconds)
            time.sleep(max(0.0, 30 - (time.monotonic() - closed)))
        finally:
            open_database(admin, name)
        reopened = time.monotonic()
        processes.wait_for(lambda: all_sent(runtime, second), timeout=90, what="the rows in flight at the outage")
        third = pending_rows(runtime, after)
        processes.wait_for(lambda: all_sent(runtime, third), timeout=60, what="rows written after the outage")
        recovery = time.monotonic() - reopened
        processes.wait_for(lambda: stack.health() == 200, timeout=30, what="the web's health")
        assert stack.alive() == {"web": True, "worker": True, "clock": True}
    finally:
        stack.stop()
        runtimes.install(None)
    log = (tmp_path / "stack.log").read_text()
    print(f"database closed 30 s: all sent {recovery:.1f} s after it reopened; restarts: "
          f"{ {name: log.count(f'keep: {name} exited') for name in ('gunicorn', 'rq worker', 'rq cron')} }")
    # The worker held Twilio's answer through the outage and recorded it once the database was back.
    assert "sent, record failed (OperationalError); trying again" in log and "left unsure" not in log
    counts = received(twilio_api, before + in_flight + after)
    assert counts == Counter({phone: 1 for phone in before + in_flight + after}), counts
