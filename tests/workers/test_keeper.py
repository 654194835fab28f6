"""`svar keep`: a long-running process that exits (killed, or given up on Redis) is restarted with backoff, by itself."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq import Worker

from service.cli.keeper import Backoff
from service.cli.keeper import program_name
from tests.workers import processes

pytestmark = pytest.mark.redis
SVAR = Path(sys.executable).parent / "svar"
RQ = Path(sys.executable).parent / "rq"
# A cron file for the test: one cheap job a second on its own queue, which no worker drains, so the test counts them.
CRON = """
from rq import cron
cron.register(len, "keeper-cron", args=("tick",), interval=1)
"""


def keep(*command, log: Path, env=None) -> subprocess.Popen:
    with open(log, "a") as sink:
        return subprocess.Popen([str(SVAR), "keep", "--", *map(str, command)], cwd=processes.ROOT, env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


def stop_keeper(keeper):
    keeper.terminate()
    keeper.wait(timeout=30)
    assert keeper.returncode == 0


def worker_pids(connection) -> set[int]:
    return {worker.pid for worker in Worker.all(connection=connection)}


def test_a_killed_worker_is_restarted_and_works_again(real_redis, redis_server_url, tmp_path):
    log = tmp_path / "keep.log"
    keeper = keep(RQ, "worker", "--url", redis_server_url, "keeper-test", log=log)
    try:
        [first] = processes.wait_for(lambda: worker_pids(real_redis), what="the first worker")
        os.kill(first, signal.SIGKILL)
        [second] = processes.wait_for(lambda: worker_pids(real_redis) - {first}, timeout=30, what="a restarted worker")
        assert second != first and keeper.poll() is None
        job = Queue("keeper-test", connection=real_redis).enqueue(len, "restarted")
        processes.wait_for(lambda: job.get_status(refresh=True) == "finished", what="a job run by the restarted worker")
        assert job.return_value() == len("restarted")
    finally:
        stop_keeper(keeper)
    text = log.read_text()
    assert "keep: rq worker exited with code -9; restarting in 1s" in text
    # The command line holds the Redis URL, which may carry a password: the keeper never logs it.
    assert redis_server_url not in text.replace(f"--url {redis_server_url}", "")
    assert "keep: started rq worker" in text


def test_worker_and_clock_go_on_after_redis_stalls_for_15_seconds(tmp_path):
    """redis-server SIGSTOPped for 15 s while a worker and `rq cron` run under the keeper: afterwards the clock
    enqueues its jobs again and the worker runs them, with no one restarting anything (bare, `rq cron` exits)."""
    cron_file = tmp_path / "keeper_cron.py"
    cron_file.write_text(CRON)
    server = processes.RedisProcess(tmp_path).start()
    log = tmp_path / "keep.log"
    clock = keep(RQ, "cron", "--url", server.url, cron_file, log=log)
    worker = keep(RQ, "worker", "--url", server.url, "keeper-test", log=log)
    connection = Redis.from_url(server.url, socket_timeout=2)
    queue = Queue("keeper-cron", connection=connection)
    try:
        processes.wait_for(lambda: queue.count >= 2, timeout=30, what="the clock's first ticks")
        processes.wait_for(lambda: worker_pids(connection), timeout=30, what="the worker")
        os.kill(server.process.pid, signal.SIGSTOP)
        time.sleep(15)
        os.kill(server.process.pid, signal.SIGCONT)
        before = queue.count
        processes.wait_for(lambda: queue.count >= before + 2, timeout=90, what="the clock's ticks after the stall")
        job = Queue("keeper-test", connection=connection).enqueue(len, "after the stall")
        processes.wait_for(lambda: job.get_status(refresh=True) == "finished", timeout=60, what="a job run after the stall")
        assert clock.poll() is None and worker.poll() is None
    finally:
        stop_keeper(clock)
        stop_keeper(worker)
        connection.close()
        server.kill()


def test_backoff_doubles_on_quick_exits_and_starts_again_after_a_steady_run():
    backoff = Backoff(first=1, most=8, steady=60)
    assert [backoff.after(0.5) for _ in range(5)] == [1, 2, 4, 8, 8]
    assert backoff.after(120) == 1


def test_the_log_names_the_program_not_its_arguments():
    assert program_name(["/venv/bin/rq", "worker", "--url", "redis://:secret@host"]) == "rq worker"
    assert program_name(["gunicorn", "--bind", "0.0.0.0:5000"]) == "gunicorn"
