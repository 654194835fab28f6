"""Parallel login bursts against a running gunicorn (2 workers x 4 threads) and a real redis-server."""
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select

from service.infra import db
from service.admin import login_limits
from service.config import Config
from service.infra.embedded import free_port
from service.models import AuditEvent
from service.models import Base
from service.infra.runtime import Runtime
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import make_org
from tests.workers import processes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BURST = 24


@pytest.fixture
def redis_server(tmp_path):
    server = processes.RedisProcess(tmp_path).start()
    yield server
    server.kill()


def start_web(tmp_path, redis_url, trusted_proxies=0):
    """gunicorn on a free port with its own SQLite database; returns (config, process)."""
    port = free_port()
    config = Config(
        database_url=f"sqlite:///{tmp_path / f'burst-{port}.db'}", redis_url=redis_url, secret_key="burst-secret",
        data_key="burst-data-key", public_base_url=f"http://127.0.0.1:{port}", trusted_proxies=trusted_proxies,
    )
    Base.metadata.create_all(db.engine_for(config.database_url))
    with open(tmp_path / "gunicorn.log", "a") as sink:
        web = subprocess.Popen(
            [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--log-level", "warning",
             "service.wsgi:app"],
            cwd=ROOT, env=processes.environment(config), stdout=sink, stderr=subprocess.STDOUT,
        )
    processes.wait_for(lambda: _healthy(config.public_base_url), timeout=30, what="gunicorn")
    return config, web


def _healthy(base):
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def ready_browser(base, headers):
    """A browser holding the login page's cookie and CSRF token, ready to post at once."""
    browser = requests.Session()
    browser.headers.update(headers)
    token = CSRF.search(browser.get(base + "/admin/login", timeout=10).text).group(1)
    return browser, token


def burst(base, email, password, headers=None, count=BURST) -> list[int]:
    """`count` logins posted at the same instant from `count` threads; their status codes."""
    browsers = [ready_browser(base, headers or {}) for _ in range(count)]
    start = threading.Barrier(count)
    statuses = [None] * count

    def attempt(position):
        browser, token = browsers[position]
        start.wait()
        response = browser.post(base + "/admin/login", data={"email": email, "password": password, "csrf_token": token},
                                allow_redirects=False, timeout=60)
        statuses[position] = response.status_code

    threads = [threading.Thread(target=attempt, args=(position,)) for position in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def password_checks(runtime, email) -> int:
    """Wrong passwords argon2 checked for `email`: the failed-login audit entries (refusals carry a detail)."""
    with runtime.transaction() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent)
            .where(AuditEvent.actor == email, AuditEvent.action.in_(("login_failed", "login_locked")), AuditEvent.detail.is_(None))
        )


def test_a_burst_of_wrong_passwords_checks_at_most_the_limit(tmp_path, redis_server):
    config, web = start_web(tmp_path, redis_server.url)
    try:
        runtime = Runtime(config)
        org = make_org(runtime)
        statuses = burst(config.public_base_url, org.admin, "wrong wrong wrong")
        assert set(statuses) <= {401, 429}, statuses
        assert password_checks(runtime, org.admin) <= login_limits.ACCOUNT_LIMIT
        # The locked account does not block the other user, from the same address.
        browser, token = ready_browser(config.public_base_url, {})
        response = browser.post(config.public_base_url + "/admin/login",
                                data={"email": org.coordinator, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
        assert response.status_code == 302
    finally:
        web.terminate()
        web.wait(timeout=15)


def test_behind_one_trusted_proxy_a_bursting_client_does_not_block_another(tmp_path, redis_server):
    config, web = start_web(tmp_path, redis_server.url, trusted_proxies=1)
    try:
        runtime = Runtime(config)
        org = make_org(runtime)
        # One client tries many accounts at once through the proxy, more than its address allows.
        emails = [f"guess{number}@testby.no" for number in range(login_limits.IP_LIMIT + 4)]
        attacker = {"X-Forwarded-For": "198.51.100.7"}
        threads = [threading.Thread(target=burst, args=(config.public_base_url, email, "wrong", attacker, 1)) for email in emails]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with runtime.transaction() as session:
            checked = session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.ip == "198.51.100.7", AuditEvent.action.in_(("login_failed", "login_locked")), AuditEvent.detail.is_(None)))
        assert checked <= login_limits.IP_LIMIT
        assert burst(config.public_base_url, org.admin, PASSWORD, attacker, 1) == [429]
        # Another client behind the same proxy logs in.
        assert burst(config.public_base_url, org.admin, PASSWORD, {"X-Forwarded-For": "198.51.100.8"}, 1) == [302]
    finally:
        web.terminate()
        web.wait(timeout=15)
