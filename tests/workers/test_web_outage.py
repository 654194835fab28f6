"""The web during a Redis stall: /healthz says which dependency is down, and a request that needs Redis answers 503
with a sentence, each within seconds instead of hanging (service/infra/queue.py timeouts, service/infra/health.py answers)."""
import dataclasses
import os
import signal
import threading
import time

import pytest

from service import create_app
from service.infra import runtime as runtimes
from tests.workers import processes

pytestmark = pytest.mark.redis


def timed(ask):
    """(ask()'s response, or what it raised, or None if it hung for 15 s; seconds taken)."""
    answers = []

    def asking():
        try:
            answers.append(ask())
        except Exception as exc:  # the app let the outage through: a 500 in production
            answers.append(exc)

    started = time.monotonic()
    asker = threading.Thread(target=asking, daemon=True)
    asker.start()
    asker.join(timeout=15)
    return (answers[0] if answers else None), time.monotonic() - started


def test_healthz_and_a_request_that_needs_redis_answer_503_within_seconds_while_it_is_stalled(config, tmp_path):
    server = processes.RedisProcess(tmp_path).start()
    app = create_app(dataclasses.replace(config, redis_url=server.url))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        health, health_seconds = timed(lambda: client.get("/healthz"))
        # The phone simulator's inbox lives in Redis only: the request cannot be answered without it.
        refused, refused_seconds = timed(lambda: client.post("/simulator/inbox", json={"phone": "sim-abcdef"}))
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        runtimes.install(None)
    assert health is not None, "GET /healthz hung while Redis was stalled"
    assert health_seconds < 10
    assert health.status_code == 503
    assert health.get_json() == {"status": "degraded", "database": "ok", "redis": "unavailable"}
    assert refused is not None, "a request that needs Redis hung while it was stalled"
    assert not isinstance(refused, Exception), f"the outage reached the client as {refused!r}"
    assert refused_seconds < 10
    assert (refused.status_code, refused.headers.get("Retry-After")) == (503, "30")
    assert refused.get_json() == {"error": "The service is temporarily unavailable (redis down); try again shortly."}
    # Once Redis is back, so is the service.
    assert client.get("/healthz").status_code == 200
    server.kill()
