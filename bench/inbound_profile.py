"""The inbound step's cost per webhook, in process: CPU, SQL statements and Redis round trips, with no timing noise.

    .venv/bin/python bench/inbound_profile.py             # SQLite and PostgreSQL, SMS and Telegram
    .venv/bin/python bench/inbound_profile.py --quick     # SQLite, fewer respondents
    .venv/bin/python bench/inbound_profile.py --cprofile  # and the top of a cProfile of each run

The same signed requests as bench/inbound.py, sent one after another to the
WSGI app as gunicorn calls it (`app(environ, start_response)`, environ built
beforehand), against a real redis-server: every respondent answers the whole
survey. CPU is this process's `time.process_time`, so it leaves out the
database server and Redis, and what gunicorn itself spends per request (the
inbound bench's ceiling row). Statements are counted with SQLAlchemy's
`before_cursor_execute` (BEGIN and COMMIT included), Redis round trips at the
connection.
Environment: BENCH_RESPONDENTS (default 40).
"""
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.connection import AbstractConnection  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from bench import common  # noqa: E402
from bench import inbound  # noqa: E402
from service import create_app  # noqa: E402
from service.infra import db  # noqa: E402
from service.infra.runtime import Runtime  # noqa: E402

RESPONDENTS = int(os.environ.get("BENCH_RESPONDENTS", 10 if common.QUICK else 40))
PROFILE = "--cprofile" in sys.argv


def environ_of(raw: bytes) -> dict:
    """The WSGI environ of one raw request (bench/wrk.py's format)."""
    head, body = raw.split(b"\r\n\r\n", 1)
    request_line, *header_lines = head.decode().split("\r\n")
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    headers.pop("Content-Length")
    content_type = headers.pop("Content-Type")
    return EnvironBuilder(path=path, method=method, data=body, headers=headers, content_type=content_type).get_environ()


class Counts:
    """Statements on every engine, and command packets sent to Redis (one per round trip)."""

    def __init__(self):
        self.statements = 0
        self.redis = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        sent = AbstractConnection.send_packed_command
        counts = self

        def send_packed_command(connection, command, check_health=True):
            counts.redis += 1
            return sent(connection, command, check_health)

        AbstractConnection.send_packed_command = send_packed_command

    def _statement(self, *_args):
        self.statements += 1


def run(app, requests: list[bytes], counts: Counts) -> dict:
    environs = [environ_of(raw) for raw in requests]
    statuses = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    statements, redis = counts.statements, counts.redis
    profile = cProfile.Profile(time.process_time) if PROFILE else None
    started = time.process_time()
    if profile:
        profile.enable()
    for environ in environs:
        body = app(environ, start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()
    if profile:
        profile.disable()
    cpu = time.process_time() - started
    failed = [status for status in statuses if not status.startswith("200")]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed: {failed[:3]}")
    figures = {
        "requests": len(environs),
        "cpu_ms": cpu / len(environs) * 1000,
        "statements": (counts.statements - statements) / len(environs),
        "redis": (counts.redis - redis) / len(environs),
    }
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(35)
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(60)
        figures["profile"] = out.getvalue()
    return figures


def profile_backend(backend: str, folder: str, redis_url: str, counts: Counts) -> list:
    url = common.fresh_database(backend, folder)
    config = common.bench_config(url, redis_url, telegram_bot_token="1:bench", telegram_webhook_secret=inbound.TELEGRAM_SECRET)
    runtime = Runtime(config)
    script = inbound.answer_script(runtime)
    batches = {}
    for serial, channel in enumerate(("sms", "telegram", "sms", "telegram"), start=1):
        batches.setdefault(channel, []).append(inbound.prepare(runtime, script, RESPONDENTS, channel, serial)[1])
    common.analyse(url)
    app = create_app(config)
    rows = []
    for channel, (warm_up, measured) in batches.items():
        # The first steps import modules, parse the survey and load phone metadata.
        run(app, [request for conversation in warm_up[:3] for request in conversation], counts)
        figures = run(app, [request for conversation in measured for request in conversation], counts)
        rows.append([backend, channel, figures["requests"], figures["cpu_ms"], figures["statements"], figures["redis"]])
        if PROFILE:
            print(f"== {backend} {channel}\n{figures['profile']}")
    db.dispose_all()
    return rows


def main():
    common.print_machine()
    counts = Counts()
    rows = []
    with tempfile.TemporaryDirectory() as folder, common.redis_server() as redis_url:
        for backend in (["sqlite"] if common.QUICK else common.backends()):
            rows += profile_backend(backend, folder, redis_url, counts)
    common.table(["database", "channel", "requests", "CPU ms/request", "statements/request", "Redis round trips/request"], rows)


if __name__ == "__main__":
    main()
