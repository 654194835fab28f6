"""Soak: a whole campaign over SMS and Telegram against the real processes, with a fault schedule, ending
with a ledger: zero messages lost, zero answers linkable, duplicates reported (none that Twilio confirmed).

Real processes: redis-server, gunicorn (2 workers), two RQ workers (forking, with
scheduler), the outbox sweeper; the Twilio and Telegram doubles on loopback.
Respondents are threads that answer every question, retrying webhooks the way
the providers do. Faults, by progress: Twilio 429s and 500s and Telegram 429s;
Redis killed and restarted empty; every worker SIGKILLed while Twilio holds a
request it has accepted; a Twilio request that hangs past the client timeout;
Redis SIGSTOPped for 8 s. Run twice: with Twilio's status callbacks, and without
(then only the lookups of workers/unsure_sends.py keep SMS from going twice).
Telegram has no lookup: a message in flight when its worker died is sent again,
counted as a possible duplicate; the duplicates seen may not exceed that count.

SVAR_SOAK_RESPONDENTS (default 80, two thirds SMS) scales it: on 2 quiet cores
the default takes under two minutes (1,413 messages, 14 webhook posts a
second); the RQ workers are the bottleneck (one forked job per reply, about
50 ms of worker CPU each).
"""
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.infra.embedded import free_port
from tests.doubles.fixtures import TELEGRAM_TOKEN
from tests.doubles.telegram_api import TelegramApiDouble
from tests.doubles.twilio_api import TwilioApiDouble
from tests.e2e import soak_ledger
from tests.e2e.soak_world import ACCOUNT
from tests.e2e.soak_world import TOKEN
from tests.e2e.soak_world import Inbox
from tests.e2e.soak_world import Respondents
from tests.e2e.soak_world import Service
from tests.e2e.soak_world import outbox_statuses
from tests.e2e.soak_world import seed
from tests.e2e.soak_world import settled
from tests.e2e.soak_world import soak_config
from tests.workers import processes

pytestmark = pytest.mark.e2e
RESPONDENTS = int(os.environ.get("SVAR_SOAK_RESPONDENTS", "80"))
# Respondents answering at the same moment; the rest wait their turn.
CONCURRENT = 48
STEPS = 17  # messages a respondent sends: the first, then one per question asked
# Longer than the Redis client's 5 s timeout: web requests answer 503 and are retried, workers and sweeps fail and go on.
STALL_SECONDS = 8.0


@pytest.fixture(params=[0.2, None], ids=["status callbacks", "no status callbacks"])
def world(tmp_path, request):
    twilio = TwilioApiDouble(ACCOUNT, TOKEN, hang_seconds=3.0, deliver_after=request.param).start()
    telegram = TelegramApiDouble(TELEGRAM_TOKEN).start()
    redis = processes.RedisProcess(tmp_path).start()
    config = soak_config(tmp_path, redis.url, twilio.url, telegram.url, free_port())
    sms_count = RESPONDENTS * 2 // 3
    campaign_id, phones, codes = seed(config, sms_count, RESPONDENTS - sms_count)
    service = Service(config, tmp_path).start()
    inbox = Inbox(twilio, telegram)
    try:
        with soak_ledger.UnsureSends() as unsure:
            yield config, twilio, telegram, redis, service, inbox, phones, codes, unsure
    finally:
        inbox.stop()
        service.stop()
        redis.kill()
        twilio.stop()
        telegram.stop()
        log = (tmp_path / "service.log").read_text()
        print(log[-4000:])  # shown by pytest when the test fails


class FaultSchedule(threading.Thread):
    """Faults injected as the respondents get through their messages."""

    def __init__(self, respondents, total, twilio, telegram, redis, service):
        super().__init__(daemon=True)
        self.respondents, self.total = respondents, total
        self.twilio, self.telegram, self.redis, self.service = twilio, telegram, redis, service
        self.done = []
        self.stopping = threading.Event()

    def run(self):
        steps = [
            (0.10, "Twilio 429 x3 (Retry-After 1) and 500 x3, Telegram 429 x2", self.throttle),
            (0.30, "Redis killed and restarted empty", self.redis.restart_empty),
            (0.50, "every worker SIGKILLed while Twilio holds an accepted request", self.kill_workers_mid_call),
            (0.70, "a Twilio request hangs past the 2 s client timeout", lambda: self.twilio.fail_next("hang")),
            (0.85, f"Redis SIGSTOPped for {STALL_SECONDS:g} s", self.stall_redis),
        ]
        for at, name, fault in steps:
            while self.respondents.posted < at * self.total:
                if self.stopping.wait(0.1):
                    return
            fault()
            self.done.append(name)

    def throttle(self):
        self.twilio.fail_next("429", count=3, retry_after=1)
        self.twilio.fail_next("500", count=3)
        self.telegram.fail_next("429", count=2, retry_after=1)

    def stall_redis(self):
        os.kill(self.redis.process.pid, signal.SIGSTOP)
        try:
            self.stopping.wait(STALL_SECONDS)
        finally:
            os.kill(self.redis.process.pid, signal.SIGCONT)

    def kill_workers_mid_call(self):
        before = self.twilio.requests
        self.twilio.fail_next("lost-answer")
        try:
            processes.wait_for(lambda: self.twilio.requests > before, timeout=20, what="a send to stall")
        finally:
            self.service.kill_workers()


def test_soak(world):
    config, twilio, telegram, redis, service, inbox, phones, codes, unsure = world
    respondents = Respondents(config, inbox)
    faults = FaultSchedule(respondents, RESPONDENTS * STEPS, twilio, telegram, redis, service)
    started = time.monotonic()
    faults.start()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        jobs = [pool.submit(respondents.sms, phone) for phone in phones]
        jobs += [pool.submit(respondents.telegram, 900000000 + n, code) for n, code in enumerate(codes)]
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(job.result())
            except AssertionError as lost:
                outcomes.append(str(lost))
    answered = time.monotonic() - started
    faults.stopping.set()
    print("outbox after answering:", outbox_statuses(config), "sweep errors:", service.sweep_errors)
    processes.wait_for(lambda: settled(config), timeout=60, what="the outbox to settle")
    messages = soak_ledger.messages(config, twilio, telegram, unsure.counts)
    answers = soak_ledger.answers(config, RESPONDENTS, secrets(phones, codes))
    completed = outcomes.count(True)
    print_ledger(messages, answers, completed, answered, respondents, service, faults, twilio)

    assert completed == RESPONDENTS, [outcome for outcome in outcomes if outcome is not True][:5]
    assert len(faults.done) == 5, faults.done
    assert messages["lost"] == 0 and messages["not_final"] == 0 and messages["failed"] == 0
    # With status callbacks or without, no SMS goes twice: the unsure ones were looked up at Twilio.
    assert messages["duplicated_confirmed"] == 0
    assert messages["duplicated_telegram"] <= messages["telegram_sent_again_unsure"]
    assert answers["sets_stored"] == RESPONDENTS and answers["stored"] == answers["expected"]
    assert answers["linkable"] == 0 and answers["conversations_left"] == 0


def secrets(phones, codes) -> list[str]:
    """What would tie an answer to a respondent: numbers in the forms people write them, chat ids, codes."""
    chats = [str(900000000 + n) for n in range(len(codes))]
    return [*phones, *(phone[1:] for phone in phones), *chats, *codes, *(code.replace("-", "") for code in codes)]


def print_ledger(messages, answers, completed, seconds, respondents, service, faults, twilio):
    callbacks = "status callbacks" if twilio.deliver_after is not None else "no status callbacks"
    lines = [
        "",
        f"SOAK LEDGER ({callbacks}; {RESPONDENTS} respondents, {completed} completed, {seconds:.0f} s answering, "
        f"{respondents.posted} webhook posts of which {respondents.retried} retries, "
        f"{respondents.posted / max(seconds, 1):.1f} posts/s; {service.restarts} worker restarts, {service.sweeps} sweeps)",
        f"  faults: {'; '.join(faults.done)}",
        f"  messages  expected {messages['expected']}  sent {messages['sent']}  duplicated {messages['duplicated']} "
        f"(SMS {messages['duplicated_confirmed']}, Telegram {messages['duplicated_telegram']} of "
        f"{messages['telegram_sent_again_unsure']} sent again unsure)  "
        f"lost {messages['lost']}  failed {messages['failed']}  not final {messages['not_final']}",
        f"  unsure    SMS found at Twilio {messages['sms_found_unsure']}, SMS sent again past the lookups' cap "
        f"{messages['sms_sent_again_unsure']}, lookups {twilio.lookups} ({messages['lookups_failed']} failed), "
        f"Telegram sent again {messages['telegram_sent_again_unsure']}",
        f"  answers   expected {answers['expected']}  stored {answers['stored']}  linkable {answers['linkable']}  "
        f"(sets {answers['sets_stored']}/{answers['sets_expected']}, conversations left {answers['conversations_left']})",
    ]
    print("\n".join(lines))
