"""Inbound step end to end: signed webhooks through gunicorn, runner, commit and outbox, beside a do-nothing ceiling.

    .venv/bin/python bench/inbound.py            # SQLite and PostgreSQL, 4/16/64 senders, 5 s each
    .venv/bin/python bench/inbound.py --quick    # SQLite, 4 senders, 1 s: the smoke test

Each sender is one simulated respondent at a time answering the whole survey
(a closed loop: the next message leaves when the answer to the last came
back). The load generator is wrk (`apt-get install -y wrk`), one thread and
one connection per sender (bench/wrk.py), sending requests signed here
beforehand. gunicorn runs as the Procfile has it: two processes of four
threads each (gthread); the Procfile's keep-alive is off here (--keep-alive 0),
so every request comes on a new connection, as when nothing in front of
gunicorn holds connections open. The ceiling is `bench/ceiling.py` served by the same
gunicorn command. Every respondent's replies are checked to be those of the
survey in order, so no message overtook the one before it.
Environment: BENCH_SECONDS (whole seconds per level), BENCH_WEB_WORKERS and
BENCH_WEB_THREADS (default 2 and 4, the Procfile's), BENCH_RESPONDENTS (prepared per level),
BENCH_LEVELS (senders per SMS level, comma-separated; default 4,16,64).
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench import common  # noqa: E402
from bench import wrk  # noqa: E402
from service.conversation.inbound import InboundMessage  # noqa: E402
from service.dispatch.codes import code_hash  # noqa: E402
from service.dispatch.codes import new_code  # noqa: E402
from service.models import Invitation  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.conversation.runner import handle_inbound  # noqa: E402
from service.infra.runtime import Runtime  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", 1 if common.QUICK else 5))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", 2))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", 4))
LEVELS = [int(level) for level in os.environ.get("BENCH_LEVELS", "4" if common.QUICK else "4,16,64").split(",")]
TELEGRAM_LEVEL = 4 if common.QUICK else 16
TELEGRAM_SECRET = "bench-telegram-secret"
SMS_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"
# Respondents prepared per level: more than the fastest stack can finish in SECONDS.
RESPONDENTS = int(os.environ.get("BENCH_RESPONDENTS", 200 if common.QUICK else 1500))
WARM_UP_RESPONDENTS = 40
# Long enough that every worker has served its first steps, even on a loaded machine.
WARM_UP_SECONDS = 1 if common.QUICK else 2


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


def sms_requests(phone: str, script: list[str], serial: str) -> list[bytes]:
    validator = RequestValidator(common.AUTH_TOKEN)
    found = []
    for step, body in enumerate(script):
        form = {"MessageSid": f"SM{serial}{step:04d}".ljust(34, "0"), "AccountSid": common.ACCOUNT_SID,
                "From": phone, "To": "+4759440000", "Body": body, "NumMedia": "0"}
        signature = validator.compute_signature(common.PUBLIC + SMS_PATH, form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        found.append(wrk.raw_request("POST", SMS_PATH, urlencode(form).encode(), headers))
    return found


def telegram_requests(chat_id: int, code: str, script: list[str], serial: int) -> list[bytes]:
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
        found.append(wrk.raw_request("POST", TELEGRAM_PATH, body, headers))
    return found


def load(port: int, senders: int, conversations: list, seconds: int, server_pids: list[int], folder: Path) -> dict:
    """Drive `senders` closed-loop senders with wrk for `seconds`: each answers its respondents' surveys one after another."""
    wrk.write_senders(folder, [[request for conversation in conversations[index::senders] for request in conversation]
                               for index in range(senders)])
    return wrk.run(port, folder, senders, seconds, server_pids)


class Gunicorn:
    """gunicorn as the Procfile runs it (gthread, N processes of M threads), on a free loopback port, a new connection per request."""

    def __init__(self, app: str, environment: dict, workers: int = WEB_WORKERS):
        self.port = common.free_port()
        self.process = subprocess.Popen(
            [str(common.ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--worker-class", "gthread", "--threads", str(WEB_THREADS), "--keep-alive", "0", "--log-level", "warning", app],
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


def out_of_order(runtime, campaign_id: int) -> tuple[int, int]:
    """(respondents, how many of them got replies that are not the start of a finished respondent's): a message overtook another."""
    with runtime.session() as session:
        rows = session.execute(
            select(OutboxMessage.invitation_id, OutboxMessage.body)
            .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.kind == "reply")
            .order_by(OutboxMessage.invitation_id, OutboxMessage.id)
        ).all()
    replies: dict[int, list] = {}
    for invitation_id, body in rows:
        replies.setdefault(invitation_id, []).append(body)
    # The same survey, the same answers: every respondent's replies so far are the start of the longest.
    longest = max(replies.values(), key=len, default=[])
    return len(replies), sum(1 for found in replies.values() if found != longest[: len(found)])


def fewest_surveys(messages: int, senders: int, length: int) -> int:
    """Surveys the senders must have finished with `messages` answered: each stops at most length - 1 into its last."""
    return max(0, messages - senders * (length - 1)) // length


def run_backend(backend: str, redis_url: str, folder: str, rows: list, memory: dict):
    requests = Path(folder) / f"requests-{backend}"
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
        # phone metadata (and each thread opens its database connection): a
        # second of CPU that belongs to no level's figures.
        load(server.port, WEB_WORKERS * WEB_THREADS, [c for pair in zip(*warm_up) for c in pair], WARM_UP_SECONDS, server.pids(), requests)
        for channel, senders, campaign_id, conversations in batches:
            runtime.redis.flushdb()
            figures = load(server.port, senders, conversations, SECONDS, server.pids(), requests)
            figures["surveys"] = completed(runtime, campaign_id)
            respondents, overtaken = out_of_order(runtime, campaign_id)
            figures["order"] = f"{respondents - overtaken}/{respondents}"
            rows.append([backend, channel, senders, figures])
            if overtaken:
                raise SystemExit(f"{backend} {channel} {senders}: {overtaken} of {respondents} respondents' replies out of order")
            # A script that stops short of the end, or steps that answer without
            # moving on, would measure something other than respondents finishing.
            fewest = fewest_surveys(figures["messages"] - figures["errors"], senders, len(script))
            if figures["surveys"] < fewest:
                raise SystemExit(f"{backend} {channel} {senders}: {figures['surveys']} surveys completed, at least {fewest} expected")
        memory[f"web worker ({backend})"] = server.worker_rss_mb()
    finally:
        server.stop()
    print(f"{backend}: answer script of {len(script)} messages")


def run_ceiling(rows: list, folder: str):
    server = Gunicorn("bench.ceiling:app", {**os.environ, "PYTHONPATH": str(common.ROOT)})
    requests = Path(folder) / "requests-ceiling"
    try:
        nothing = wrk.raw_request("POST", SMS_PATH, b"Body=Hei", {"Content-Type": "application/x-www-form-urlencoded"})
        for senders in LEVELS:
            # One request per sender, sent again and again.
            wrk.write_senders(requests, [[nothing]] * senders)
            rows.append(["-", "ceiling", senders, wrk.run(server.port, requests, senders, SECONDS, server.pids(), cycle=True)])
    finally:
        server.stop()


def main():
    common.print_machine()
    wrk.executable()
    print(f"gunicorn --workers {WEB_WORKERS} --worker-class gthread --threads {WEB_THREADS} --keep-alive 0, {SECONDS} s per level, load from wrk (one thread and connection per sender)")
    rows, memory = [], {}
    with tempfile.TemporaryDirectory() as folder, common.redis_server() as redis_url:
        run_ceiling(rows, folder)
        for backend in (["sqlite"] if common.QUICK else common.backends()):
            run_backend(backend, redis_url, folder, rows, memory)
    ceiling = {row[2]: row[3]["rate"] for row in rows if row[1] == "ceiling"}
    common.table(
        ["database", "channel", "senders", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "surveys", "in order", "of ceiling",
         "server CPU", "server CPU ms/msg", "switches/msg", "client CPU"],
        [[backend, channel, senders, f["rate"], f["p50"], f["p95"], f["p99"], f["errors"], f.get("surveys", "-"), f.get("order", "-"),
          f"{f['rate'] / ceiling[senders]:.0%}" if senders in ceiling else "-", f"{f['server_cpu']:.0%}", f"{f['server_ms']:.2f}", f"{f['server_switches']:.1f}",
          f"{f['client_cpu']:.0%}"]
         for backend, channel, senders, f in rows],
    )
    for name, value in memory.items():
        print(f"resident memory of a {name} after the runs: {value:.0f} MB (target <= 120 MB)")
    if any(row[3]["errors"] for row in rows if row[1] != "ceiling"):
        raise SystemExit("some webhooks failed")


if __name__ == "__main__":
    main()
