"""The web during a Redis stall: /healthz says which dependency is down, at once, instead of hanging."""
import dataclasses
import os
import signal
import threading
import time

import pytest

from service import create_app
from service import runtime as runtimes
from tests.workers import processes

pytestmark = pytest.mark.redis


def test_healthz_names_redis_down_within_seconds_while_it_is_stalled(config, tmp_path):
    server = processes.RedisProcess(tmp_path).start()
    app = create_app(dataclasses.replace(config, redis_url=server.url))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    answers = []
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        asker = threading.Thread(target=lambda: answers.append(client.get("/healthz")), daemon=True)
        asker.start()
        asker.join(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        runtimes.install(None)
    assert answers, "GET /healthz hung while Redis was stalled"
    assert elapsed < 10
    [answer] = answers
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "degraded", "database": "ok", "redis": "unavailable"}
    server.kill()
