"""wrk as the benchmarks' load generator: pre-built requests, one closed-loop sender per wrk thread, figures as JSON.

Each sender is a wrk thread with one connection (`wrk -t N -c N`), so its
requests leave strictly one after another: the next when the last was
answered, as a respondent answers the question they were just asked. (wrk's
request() is per thread, not per connection: with several connections on a
thread, a slow request may still be in flight when the same respondent's next
message goes out on another connection, however far apart they are placed.)
"""
import json
import resource
import shutil
import subprocess
import time
from pathlib import Path

import psutil

SCRIPT = Path(__file__).resolve().with_name("wrk_senders.lua")
INSTALL_HINT = "wrk is not installed: `apt-get install -y wrk` (Debian's package); the inbound benchmark drives its load with it"


def executable() -> str:
    """wrk's path; exits with the install hint when it is missing (no fallback: figures of another client would not compare)."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(INSTALL_HINT)
    return found


def raw_request(method: str, path: str, body: bytes, headers: dict) -> bytes:
    """One HTTP/1.1 request as wrk sends it."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def write_senders(folder: Path, senders: list[list[bytes]]):
    """One file per sender (sender-1.req, ...): its requests in the order it sends them."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, requests in enumerate(senders, start=1):
        with open(folder / f"sender-{number}.req", "wb") as file:
            for request in requests:
                file.write(b"%d\n" % len(request))
                file.write(request)


def run(port: int, folder: Path, senders: int, seconds: int, server_pids: list[int], cycle: bool = False) -> dict:
    """Drive `senders` closed-loop senders from `folder` for `seconds`: rate, latency percentiles, CPU of server and client."""
    servers = [psutil.Process(pid) for pid in server_pids]
    server_before = sum(sum(server.cpu_times()[:2]) for server in servers)
    switches_before = _switches(servers)
    client_before = _children_cpu()
    started = time.perf_counter()
    command = [executable(), "-t", str(senders), "-c", str(senders), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(SCRIPT), f"http://127.0.0.1:{port}/", "--", str(folder)] + (["cycle"] if cycle else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    elapsed = time.perf_counter() - started
    server_cpu = sum(sum(server.cpu_times()[:2]) for server in servers) - server_before
    switches = _switches(servers) - switches_before
    client_cpu = _children_cpu() - client_before
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    if figures["exhausted_senders"]:
        raise SystemExit(f"{figures['exhausted_senders']} of {senders} senders ran out of prepared requests: prepare more (BENCH_RESPONDENTS)")
    duration = figures["duration_us"] / 1e6
    messages = figures["requests"]
    socket_errors = sum(figures[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "messages": messages,
        "rate": messages / duration,
        "p50": figures["p50_us"] / 1000,
        "p95": figures["p95_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "max": figures["max_us"] / 1000,
        "errors": figures["status_errors"] + socket_errors,
        # wrk's own CPU (it is this process's only waited-for child meanwhile).
        "client_cpu": client_cpu / elapsed,
        "server_cpu": server_cpu / elapsed,
        # CPU seconds per message: what a step costs, much less moved by the machine's load than msg/s.
        "server_ms": server_cpu / max(1, messages) * 1000,
        # Voluntary and involuntary: how often a message's server processes gave up a core (waits, preemption).
        "server_switches": switches / max(1, messages),
    }


def _switches(servers: list) -> int:
    """Context switches of every thread of the servers (psutil's count is the main thread's only)."""
    total = 0
    for server in servers:
        for status in Path(f"/proc/{server.pid}/task").glob("*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                # The thread ended meanwhile.
                continue
            total += sum(int(line.split()[1]) for line in lines if "ctxt_switches" in line)
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
