"""`svar run`: the whole service on embedded defaults, for development and demos."""
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from datetime import timezone
from pathlib import Path

import click

from ..config import ROOT
from ..config import Config
from .demo import seed
from ..infra.embedded import start_redis
from ..infra.migrate import upgrade
from ..infra.queue import DEFAULT_QUEUE
from ..infra.queue import SEND_QUEUE
from ..infra.runtime import Runtime

BIN = Path(sys.executable).parent
# Job code imported before each fork: a reply is not a second of imports.
WORKER_CLASS = "workers.rq_worker.PreloadingWorker"


@click.command()
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")), show_default="5000 or $PORT")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--web-workers", type=int, default=2, show_default=True)
def run(port, host, web_workers):
    """Migrate, seed the demo, start Redis (unless REDIS_URL), a worker, the scheduler and the web app."""
    env = dict(os.environ, SVAR_SIMULATOR=os.environ.get("SVAR_SIMULATOR", "1"), PYTHONUNBUFFERED="1")
    env.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    os.environ.update(env)
    config = Config()
    upgrade(config.database_url)
    children = []
    if not config.redis_url:
        redis_process, redis_url = start_redis(config.var_dir / "redis")
        children.append(("redis", redis_process))
        env["REDIS_URL"] = os.environ["REDIS_URL"] = redis_url
        config = replace(config, redis_url=redis_url)
    runtime = Runtime(config)
    with runtime.transaction() as session:
        demo = seed(session, runtime, datetime.now(timezone.utc))
    children += _start_processes(env, config.redis_url, host, port, web_workers)
    _print_welcome(config, host, port, demo)
    _supervise(children)


def _start_processes(env, redis_url, host, port, web_workers):
    def start(*args):
        # Each under `svar keep`, as in the Procfile: a child that exits (a Redis outage) is restarted with backoff.
        return subprocess.Popen([str(BIN / "svar"), "keep", "--", str(BIN / args[0]), *args[1:]], env=env, cwd=ROOT)

    return [
        ("worker", start("rq", "worker", "--with-scheduler", "-w", WORKER_CLASS, "--url", redis_url, SEND_QUEUE, DEFAULT_QUEUE)),
        ("scheduler", start("rq", "cron", "--url", redis_url, "workers/cron.py")),
        # As the Procfile's web process: threads wait on the database and Redis (see README).
        ("web", start("gunicorn", "--bind", f"{host}:{port}", "--workers", str(web_workers),
                      "--worker-class", "gthread", "--threads", "4", "service.wsgi:app")),
    ]


def _print_welcome(config, host, port, demo):
    base = f"http://{host}:{port}"
    lines = [
        "",
        "Svar is running.",
        f"  Admin view:      {base}/admin/",
        f"  Phone simulator: {base}/simulator",
        f"  JSON API:        {base}/api/v1/openapi.json",
        f"  Health:          {base}/healthz",
        f"  Admin login:     {demo.admin_email} / {demo.admin_password}",
        f"  Database:        {config.database_url}",
        "  Demo one-time codes (text one to start the survey in the simulator):",
        *(f"    {code}" for code in demo.codes),
        "Stop with Ctrl-C.",
        "",
    ]
    click.echo("\n".join(lines))


def _supervise(children):
    """Wait until Ctrl-C, SIGTERM or any child exits; then stop them all."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            exited = [(name, p.returncode) for name, p in children if p.poll() is not None]
            if exited:
                click.echo(f"{exited[0][0]} exited with code {exited[0][1]}; stopping", err=True)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for _name, process in reversed(children):
        if process.poll() is None:
            process.terminate()
    for _name, process in reversed(children):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    failed = any(p.returncode not in (0, -signal.SIGTERM, None) for _n, p in children) and not stopping
    sys.exit(1 if failed else 0)
