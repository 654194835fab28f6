"""The soak's world: the service as real processes, simulated respondents on both channels, and the ledger."""
import itertools
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from redis.exceptions import RedisError
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from service.dispatch import campaigns
from service.infra import db
from service.infra import runtime as runtimes
from service.config import Config
from service.models import Base
from service.models import OutboxMessage
from service.models import ReminderPolicy
from service.models import utcnow
from service.infra.runtime import Runtime
from tests import factories
from tests.doubles import telegram_updates
from tests.doubles.fixtures import TELEGRAM_SECRET
from tests.doubles.fixtures import TELEGRAM_TOKEN
from tests.doubles.twilio_api import post_signed
from tests.outbox_rows import ALWAYS_OPEN
from tests.workers import processes
from workers.schedule import sweep_outbox

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
ACCOUNT = "AC" + "50" * 16
TOKEN = "soak-auth-token"
QUESTION = re.compile(r"(?m)^\d+/\d+ ")


def soak_config(tmp_path, redis_url, twilio_url, telegram_url, port) -> Config:
    return Config(
        database_url=f"sqlite:///{tmp_path / 'soak.db'}",
        redis_url=redis_url,
        secret_key="soak-secret",
        data_key="soak-data-key",
        public_base_url=f"http://127.0.0.1:{port}",
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_from="+4759440000",
        twilio_api_base_url=twilio_url,
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base_url=telegram_url,
        # A messaging service's throughput: the soak is about faults, not a long code's 10 SMS/s.
        sms_rate=1000.0,
        twilio_timeout=2.0,
        pending_grace=2.0,
        sending_grace=4.0,
        # A Telegram send left unsure (its worker killed mid-call) is sent again after this: the soak's minutes, not 15.
        unsure_grace=8.0,
    )


class Service:
    """gunicorn, RQ workers (restarted when they exit, as a supervisor does) and the outbox sweeper."""

    def __init__(self, config, tmp_path, workers=2, web_workers=2):
        self.config = config
        self.log = tmp_path / "service.log"
        self.web = None
        self.workers = []
        self.count = workers
        self.web_workers = web_workers
        self.restarts = 0
        self.sweeps = 0
        self.sweep_errors = []
        self._stopping = threading.Event()
        self._threads = []

    def start(self):
        with open(self.log, "a") as sink:
            self.web = subprocess.Popen(
                [str(GUNICORN), "--bind", self.config.public_base_url.removeprefix("http://"), "--workers",
                 str(self.web_workers), "--log-level", "warning", "service.wsgi:app"],
                cwd=ROOT, env=processes.environment(self.config), stdout=sink, stderr=subprocess.STDOUT,
            )
        self.workers = [processes.start_worker(self.config, self.log) for _ in range(self.count)]
        processes.wait_for(self._healthy, timeout=30, what="gunicorn")
        for target in (self._supervise, self._sweep):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def kill_workers(self):
        """SIGKILL every worker and work horse at once; the supervisor starts new ones."""
        for worker in list(self.workers):
            processes.kill(worker)

    def stop(self):
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for worker in self.workers:
            processes.stop(worker)
        if self.web is not None:
            self.web.terminate()
            self.web.wait(timeout=15)

    def _healthy(self):
        try:
            with urllib.request.urlopen(self.config.public_base_url + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def _supervise(self):
        while not self._stopping.wait(0.2):
            for position, worker in enumerate(self.workers):
                if worker.poll() is not None:
                    self.restarts += 1
                    self.workers[position] = processes.start_worker(self.config, self.log)

    def _sweep(self):
        """rq cron's sweep_outbox, every second instead of every minute: the soak has minutes, not days."""
        runtimes.install(Runtime(self.config))
        while not self._stopping.wait(1.0):
            try:
                sweep_outbox()
                self.sweeps += 1
            except (RedisError, OperationalError) as exc:
                # Redis restarting, SQLite busy: rq cron would fail this run and try again next time.
                self.sweep_errors.append(type(exc).__name__)


def seed(config, sms_count, telegram_count) -> tuple[int, list[str], list[str]]:
    """A campaign open now with SMS respondents (launched: invitations queued) and Telegram code holders."""
    Base.metadata.create_all(db.engine_for(config.database_url))
    runtime = Runtime(config)
    runtimes.install(runtime)
    now = utcnow()
    with runtime.transaction() as session:
        campaign = factories.open_campaign(session, name="Soak", status="draft")
        campaign.opens_at, campaign.closes_at = now - timedelta(days=1), now + timedelta(days=28)
        session.add(ReminderPolicy(campaign_id=campaign.id, **ALWAYS_OPEN))
        phones = [f"+4790{n:06d}" for n in range(sms_count)]
        for phone in phones:
            factories.invite(session, runtime, campaign, phone=phone, status="created")
        codes = [factories.invite(session, runtime, campaign)[1] for _ in range(telegram_count)]
        campaigns.launch(session, runtime, campaign, now)
        return campaign.id, phones, codes


class Inbox:
    """Messages the doubles received, by recipient, so respondents wait without scanning everything."""

    def __init__(self, twilio, telegram):
        self.twilio, self.telegram = twilio, telegram
        self._by_address = defaultdict(list)
        self._seen = {"sms": 0, "telegram": 0}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._tail, daemon=True)
        self._thread.start()

    def wait(self, address, seen, timeout) -> list[str]:
        """Texts to `address` after the first `seen`; [] on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._by_address[address]) <= seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
            return self._by_address[address][seen:]

    def stop(self):
        self._stopping.set()

    def _tail(self):
        while not self._stopping.wait(0.02):
            sms = self.twilio.messages[self._seen["sms"] :]
            chats = self.telegram.sent[self._seen["telegram"] :]
            if not sms and not chats:
                continue
            with self._changed:
                for message in sms:
                    self._by_address[message["to"]].append(message["body"])
                for message in chats:
                    self._by_address[str(message["chat"]["id"])].append(message["text"])
                self._seen["sms"] += len(sms)
                self._seen["telegram"] += len(chats)
                self._changed.notify_all()


def answer_for(question: str) -> str:
    """What the simulated respondent types: no to yes/no (so the follow-up is skipped), skip the comment, else 2."""
    lowered = question.lower()
    if "'ja' eller 'nei'" in lowered:
        return "nei"
    if "'-'" in question:
        return "-"
    return "2"


class Respondents:
    """Simulated phones; each answers the survey to the end, retrying a webhook as the providers do."""

    REPLY_TIMEOUT = 60.0

    def __init__(self, config, inbox):
        self.config, self.inbox = config, inbox
        self.posted = 0
        self.retried = 0
        self.errors = []
        self._update_ids = itertools.count(1)
        self._lock = threading.Lock()

    def sms(self, phone) -> bool:
        seen = len(self._wait(phone, 0, "the invitation"))
        text, n = "Hei", 0
        while True:
            n += 1
            fields = {"MessageSid": f"SM{phone[1:]}{n:020d}"[:34], "AccountSid": ACCOUNT, "From": phone,
                      "To": self.config.twilio_from, "Body": text}
            self._deliver(lambda: post_signed(self.config.public_base_url + "/webhooks/twilio/sms", fields, TOKEN))
            replies = self._wait(phone, seen, f"a reply to message {n}")
            seen += len(replies)
            if not QUESTION.search(replies[-1]):
                return True
            text = answer_for(replies[-1])

    def telegram(self, chat_id, code) -> bool:
        update = telegram_updates.start(chat_id, code, update_id=next(self._update_ids))
        seen, address = 0, str(chat_id)
        while True:
            self._deliver(lambda: self._post_update(update))
            replies = self._wait(address, seen, "a bot message")
            seen += len(replies)
            if not QUESTION.search(replies[-1]):
                return True
            update = telegram_updates.text(chat_id, answer_for(replies[-1]), update_id=next(self._update_ids))

    def _wait(self, address, seen, what) -> list[str]:
        replies = self.inbox.wait(address, seen, self.REPLY_TIMEOUT)
        if not replies:
            raise AssertionError(f"lost: no {what} to {address[-4:]} within {self.REPLY_TIMEOUT:.0f} s (at {time.strftime('%H:%M:%S')})")
        return replies

    def _deliver(self, post):
        """POST until a 2xx, the same message each time, as Twilio and Telegram retry."""
        for attempt in itertools.count():
            try:
                status = post()
            except OSError:
                status = None
            with self._lock:
                self.posted += 1
                self.retried += attempt > 0
            if status is not None and 200 <= status < 300:
                return
            time.sleep(min(2.0, 0.2 * (attempt + 1)))

    def _post_update(self, update) -> int:
        request = urllib.request.Request(
            self.config.public_base_url + "/webhooks/telegram",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def outbox_statuses(config) -> dict:
    """Outbox rows by channel and status, for a failure message."""
    with Runtime(config).session() as session:
        rows = session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(OutboxMessage.channel, OutboxMessage.status)
        ).all()
    return {f"{channel}:{status}": count for channel, status, count in rows}


def settled(config) -> bool:
    """Every outbox row final: sent, delivered, failed or undelivered."""
    with Runtime(config).session() as session:
        open_rows = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending"))))
    return open_rows == 0

