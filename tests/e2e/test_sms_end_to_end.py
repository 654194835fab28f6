"""`svar run` as `make run` starts it: a survey answered over signed Twilio webhooks.

Real processes: the embedded redis-server, an RQ worker, the RQ cron
scheduler and gunicorn. Twilio is the loopback double; the worker reaches it
through TWILIO_API_BASE_URL with the official SDK.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service.infra.embedded import free_port
from tests.doubles.twilio_api import TwilioApiDouble
from tests.doubles.twilio_api import post_signed

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "e2" * 16
TOKEN = "e2e-auth-token"
PHONE = "+4791112222"
CODE = re.compile(r"^\s+([A-Z2-9]{4}-[A-Z2-9]{4})$", re.M)


@pytest.fixture
def twilio():
    double = TwilioApiDouble(account_sid=ACCOUNT, auth_token=TOKEN, deliver_after=0.1).start()
    yield double
    double.stop()


@pytest.fixture
def service(tmp_path, twilio):
    """`svar run` on a free port; yields (base_url, printed output, database path)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SVAR_VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": "+4759440000",
        "TWILIO_API_BASE_URL": twilio.url,
    }
    for name in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL"):
        env.pop(name, None)
    log = tmp_path / "svar-run.log"
    with open(log, "w") as sink:
        # A file, not a pipe: nobody drains a pipe while the test runs.
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "run"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        output = _wait_for_text(log, process, "Stop with Ctrl-C.", timeout=60)
        _wait_healthy(base, timeout=30)
        yield base, output, tmp_path / "svar.db"
    finally:
        # svar run stops its children in order: web, scheduler, worker, Redis.
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        print(log.read_text())  # shown by pytest when the test fails


def _wait_for_text(log, process, marker, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text()
        if marker in output:
            return output
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("svar run did not start:\n" + log.read_text())


def _wait_healthy(base, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if json.load(response)["status"] == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the web app never became healthy")


def _texts_to(twilio, phone):
    return [m["Body"] for m in list(twilio.messages) if m.get("To") == phone]


def _wait_for_reply(twilio, phone, seen, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = _texts_to(twilio, phone)
        if len(texts) > seen:
            return texts[seen:]
        time.sleep(0.05)
    raise AssertionError(f"no reply after message {seen}")


def _answer_for(question: str) -> str:
    """What a respondent would type: a number on a scale or list, yes, or a few words."""
    lowered = question.lower()
    if "ja" in lowered and "nei" in lowered:
        return "ja"
    if "1)" in question or "1-6" in question or "1 =" in question:
        return "4"
    return "Takk for et godt program"


def test_a_code_holder_answers_the_whole_survey_over_sms(service, twilio):
    base, output, database = service
    codes = CODE.findall(output)
    assert len(codes) == 5 and "Admin login:" in output and "/simulator" in output

    sms_url = base + "/webhooks/twilio/sms"
    sent = 0

    def text(body):
        nonlocal sent
        sent += 1
        fields = {"MessageSid": f"SM{sent:032x}", "AccountSid": ACCOUNT, "From": PHONE, "To": "+4759440000", "Body": body}
        assert post_signed(sms_url, fields, TOKEN) == 200

    text(codes[0].lower())
    seen = 0
    for _step in range(40):
        replies = _wait_for_reply(twilio, PHONE, seen)
        seen += len(replies)
        last = replies[-1]
        if "takk for svarene" in last.lower():
            break
        text(_answer_for(last))
    else:
        raise AssertionError("the survey never finished")

    # The answers wait in the pool until a release (A3), and the worker records the last reply as sent just
    # after the double accepted it (the test may read it in between); give it a moment.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            responses = db.execute("SELECT count(*) FROM answer_pool").fetchone()[0]
            unsent = db.execute("SELECT count(*) FROM outbox WHERE body IS NOT NULL").fetchone()[0]
            if responses and not unsent:
                break
        time.sleep(0.2)
    with sqlite3.connect(database) as db:
        # Nothing reaches the answer side before a release: the completed set waits, encrypted, in the pool.
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM answer_pool").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM invitations WHERE status = 'completed'").fetchone()[0] == 1
        # Every reply was accepted by the provider and its body erased afterwards.
        pending = db.execute("SELECT count(*) FROM outbox WHERE body IS NOT NULL").fetchone()[0]
        assert pending == 0
    # The same code cannot be used twice; a used printed code was sent to no address, so whoever texts it
    # hears what a wrong code gets, and learns nothing of who answered (A7).
    text(codes[0])
    again = _wait_for_reply(twilio, PHONE, seen)
    assert "fant ikke den koden" in again[-1].lower()
