"""Inbound step end to end: signed webhooks through gunicorn, runner, commit and outbox, beside a do-nothing ceiling.

    .venv/bin/python bench/inbound.py            # SQLite and PostgreSQL, 4/16/64 senders, 5 s each
    .venv/bin/python bench/inbound.py --quick    # SQLite, 4 senders, 1 s: the smoke test

Each sender is one simulated respondent at a time answering the whole survey
(a closed loop: the next message leaves when the answer to the last came
back). Senders run as threads in a few client processes that open a new
connection per request, as gunicorn's sync workers close each one. The
ceiling is `bench/ceiling.py` served by the same gunicorn command.
Environment: BENCH_SECONDS (per level), BENCH_WEB_WORKERS (default 4, the Procfile's).
"""
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench import common  # noqa: E402
from service.channels.base import InboundMessage  # noqa: E402
from service.codes import code_hash  # noqa: E402
from service.codes import new_code  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.runner import handle_inbound  # noqa: E402
from service.runtime import Runtime  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 1 if common.QUICK else 5))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", 4))
LEVELS = [4] if common.QUICK else [4, 16, 64]
TELEGRAM_LEVEL = 4 if common.QUICK else 16
TELEGRAM_SECRET = "bench-telegram-secret"
SMS_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"
# Respondents prepared per level: more than the fastest stack can finish in SECONDS.
RESPONDENTS = 300 if common.QUICK else 1500
WARM_UP_RESPONDENTS = 40
WARM_UP_SECONDS = 0.5 if common.QUICK else 1.0


def answer_script(runtime) -> list[str]:
    """The texts one respondent sends to finish the survey, found by answering in process first."""
    campaign_id = common.open_campaign(runtime, utcnow(), units=1, name="Script")
    # As many invited in the unit as small-group protection (A6) needs to ask
    # everything: with fewer it skips background questions and comments, and a
    # script found here would stop short of the end in the bench campaigns.
    phones = [f"+47400{index:05d}" for index in range(runtime.config.small_group)]
    phone = phones[0]
    common.bulk_invitations(runtime, campaign_id, phones=phones)
    texts = ["Hei"]
    for step in range(60):
        handle_inbound(runtime, InboundMessage("sms", f"SMscript{step:028d}", phone, texts[-1]), utcnow())
        with runtime.session() as session:
            invitation = session.scalar(select(Invitation).where(
                Invitation.campaign_id == campaign_id, Invitation.address_hash == runtime.vault.address_hash("sms", phone)))
            if invitation.status == "completed":
                return texts
            reply = session.scalars(
                select(OutboxMessage).where(OutboxMessage.invitation_id == invitation.id).order_by(OutboxMessage.id.desc())
            ).first()
        offered = [option["reply"] for option in reply.options or () if option["reply"] != "-"]
        texts.append(offered[0] if offered else "Bra program")
    raise RuntimeError("the survey did not finish in 60 messages")


def sms_requests(phone: str, script: list[str], serial: str) -> list[tuple[str, bytes, dict]]:
    validator = RequestValidator(common.AUTH_TOKEN)
    found = []
    for step, body in enumerate(script):
        form = {"MessageSid": f"SM{serial}{step:04d}".ljust(34, "0"), "AccountSid": common.ACCOUNT_SID,
                "From": phone, "To": "+4759440000", "Body": body, "NumMedia": "0"}
        signature = validator.compute_signature(common.PUBLIC + SMS_PATH, form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        found.append((SMS_PATH, urlencode(form).encode(), headers))
    return found


def telegram_requests(chat_id: int, code: str, script: list[str], serial: int) -> list[tuple[str, bytes, dict]]:
    texts = [f"/start {code}"] + script[1:]
    found = []
    for step, value in enumerate(texts):
        message = {"message_id": step + 1, "date": int(time.time()), "text": value,
                   "from": {"id": chat_id, "is_bot": False, "first_name": "Bench", "language_code": "nb"},
                   "chat": {"id": chat_id, "first_name": "Bench", "type": "private"}}
        if value.startswith("/"):
            message["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
        body = json.dumps({"update_id": serial * 100 + step, "message": message}).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        found.append((TELEGRAM_PATH, body, headers))
    return found


def _sender(port, conversations, deadline, latencies, errors):
    for conversation in conversations:
        for path, body, headers in conversation:
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = 0
            finally:
                connection.close()
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)


def _client_process(port, work, seconds, start_at, results):
    """Threads, one per sender; each answers its respondents' surveys one after another."""
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    latencies, errors = [], []
    threads = [threading.Thread(target=_sender, args=(port, conversations, deadline, latencies, errors)) for conversations in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = psutil.Process().cpu_times()
    results.put((latencies, errors, usage.user + usage.system))


def load(port: int, senders: int, conversations: list, seconds: float, server_pids: list[int]) -> dict:
    """Drive `senders` closed-loop senders for `seconds`; messages/s, latency percentiles, CPU of each side."""
    processes_count = min(senders, 4)
    per_sender = [conversations[index::senders] for index in range(senders)]
    queue = multiprocessing.Queue()
    start_at = time.time() + 0.5
    processes = [
        multiprocessing.Process(target=_client_process, args=(port, per_sender[index::processes_count], seconds, start_at, queue))
        for index in range(processes_count)
    ]
    servers = [psutil.Process(pid) for pid in server_pids]
    for process in processes:
        process.start()
    while time.time() < start_at:
        time.sleep(0.001)
    server_before = sum(sum(server.cpu_times()[:2]) for server in servers)
    began = time.perf_counter()
    outputs = [queue.get() for _ in processes]
    elapsed = time.perf_counter() - began
    server_cpu = sum(sum(server.cpu_times()[:2]) for server in servers) - server_before
    for process in processes:
        process.join()
    latencies = [value for output in outputs for value in output[0]]
    errors = [value for output in outputs for value in output[1]]
    client_cpu = sum(output[2] for output in outputs)
    return {
        "messages": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": common.percentile(latencies, 0.50) * 1000,
        "p95": common.percentile(latencies, 0.95) * 1000,
        "p99": common.percentile(latencies, 0.99) * 1000,
        "errors": len(errors),
        "client_cpu": client_cpu / elapsed,
        "server_cpu": server_cpu / elapsed,
        # CPU seconds per message: what a step costs, much less moved by the machine's load than msg/s.
        "server_ms": server_cpu / max(1, len(latencies)) * 1000,
    }


class Gunicorn:
    """`gunicorn --workers N service.wsgi:app` as the Procfile runs it, on a free loopback port."""

    def __init__(self, app: str, environment: dict, workers: int = WEB_WORKERS):
        self.port = common.free_port()
        self.process = subprocess.Popen(
            [str(common.ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--worker-class", "sync", "--log-level", "warning", app],
            cwd=common.ROOT, env=environment,
        )
        common.wait_for(self._up, f"gunicorn {app}")

    def _up(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()
        # Every worker booted: the arbiter and N children.
        return len(psutil.Process(self.process.pid).children()) >= WEB_WORKERS

    def pids(self) -> list[int]:
        return [self.process.pid] + [child.pid for child in psutil.Process(self.process.pid).children()]

    def worker_rss_mb(self) -> float:
        return max(common.rss_mb(child.pid) for child in psutil.Process(self.process.pid).children())

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)


def prepare(runtime, script, count: int, channel: str, serial: int) -> tuple[int, list]:
    """`count` fresh invited respondents of a new campaign: its id and the requests each will send."""
    campaign_id = common.open_campaign(runtime, utcnow(), units=2, name=f"Inbound {serial}")
    if channel == "sms":
        phones = [f"+479{serial:02d}{index:05d}" for index in range(count)]
        common.bulk_invitations(runtime, campaign_id, phones=phones)
        return campaign_id, [sms_requests(phone, script, f"{serial:02d}{index:06d}") for index, phone in enumerate(phones)]
    codes = [new_code() for _ in range(count)]
    common.bulk_invitations(runtime, campaign_id, count=count, channel="paper", address_enc=None, address_hash=None,
                            code_hash=lambda index: code_hash(runtime.vault, codes[index]))
    return campaign_id, [telegram_requests(10_000_000 * serial + index, code, script, 10_000 * serial + index)
                         for index, code in enumerate(codes)]


def completed(runtime, campaign_id: int) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.campaign_id == campaign_id, Invitation.status == "completed"))


def fewest_surveys(messages: int, senders: int, length: int) -> int:
    """Surveys the senders must have finished with `messages` answered: each stops at most length - 1 into its last."""
    return max(0, messages - senders * (length - 1)) // length


def run_backend(backend: str, redis_url: str, folder: str, rows: list, memory: dict):
    url = common.fresh_database(backend, folder)
    config = common.bench_config(url, redis_url, telegram_bot_token="1:bench", telegram_webhook_secret=TELEGRAM_SECRET)
    runtime = Runtime(config)
    script = answer_script(runtime)
    serial = 0
    batches = []
    for senders in LEVELS:
        serial += 1
        batches.append(("sms", senders, *prepare(runtime, script, RESPONDENTS, "sms", serial)))
    serial += 1
    batches.append(("telegram", TELEGRAM_LEVEL, *prepare(runtime, script, RESPONDENTS, "telegram", serial)))
    warm_up = []
    for channel in ("sms", "telegram"):
        serial += 1
        warm_up.append(prepare(runtime, script, WARM_UP_RESPONDENTS, channel, serial)[1])
    common.analyse(url)
    server = Gunicorn("service.wsgi:app", common.config_environment(config))
    try:
        # Each worker's first steps import modules, parse the survey and load
        # phone metadata: a second of CPU that belongs to no level's figures.
        load(server.port, 2 * WEB_WORKERS, [c for pair in zip(*warm_up) for c in pair], WARM_UP_SECONDS, server.pids())
        for channel, senders, campaign_id, conversations in batches:
            runtime.redis.flushdb()
            figures = load(server.port, senders, conversations, SECONDS, server.pids())
            figures["surveys"] = completed(runtime, campaign_id)
            rows.append([backend, channel, senders, figures])
            # A script that stops short of the end, or steps that answer without
            # moving on, would measure something other than respondents finishing.
            fewest = fewest_surveys(figures["messages"] - figures["errors"], senders, len(script))
            if figures["surveys"] < fewest:
                raise SystemExit(f"{backend} {channel} {senders}: {figures['surveys']} surveys completed, at least {fewest} expected")
        memory[f"web worker ({backend})"] = server.worker_rss_mb()
    finally:
        server.stop()
    print(f"{backend}: answer script of {len(script)} messages")


def run_ceiling(rows: list):
    server = Gunicorn("bench.ceiling:app", {**os.environ, "PYTHONPATH": str(common.ROOT)})
    try:
        conversations = [[(SMS_PATH, b"Body=Hei", {"Content-Type": "application/x-www-form-urlencoded"})] * 20] * 2000
        for senders in LEVELS:
            rows.append(["-", "ceiling", senders, load(server.port, senders, conversations, SECONDS, server.pids())])
    finally:
        server.stop()


def main():
    common.print_machine()
    print(f"gunicorn --workers {WEB_WORKERS} (sync), {SECONDS:g} s per level")
    rows, memory = [], {}
    with tempfile.TemporaryDirectory() as folder, common.redis_server() as redis_url:
        run_ceiling(rows)
        for backend in (["sqlite"] if common.QUICK else common.backends()):
            run_backend(backend, redis_url, folder, rows, memory)
    ceiling = {row[2]: row[3]["rate"] for row in rows if row[1] == "ceiling"}
    common.table(
        ["database", "channel", "senders", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "surveys", "of ceiling", "server CPU",
         "server CPU ms/msg", "client CPU"],
        [[backend, channel, senders, f["rate"], f["p50"], f["p95"], f["p99"], f["errors"], f.get("surveys", "-"),
          f"{f['rate'] / ceiling[senders]:.0%}" if senders in ceiling else "-", f"{f['server_cpu']:.0%}", f"{f['server_ms']:.2f}",
          f"{f['client_cpu']:.0%}"]
         for backend, channel, senders, f in rows],
    )
    for name, value in memory.items():
        print(f"resident memory of a {name} after the runs: {value:.0f} MB (target <= 120 MB)")
    if any(row[3]["errors"] for row in rows if row[1] != "ceiling"):
        raise SystemExit("some webhooks failed")


if __name__ == "__main__":
    main()
