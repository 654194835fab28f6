"""Login and token limits keyed on the real client: behind a trusted proxy, without one, and per account."""
import dataclasses

import pytest
from sqlalchemy import func
from sqlalchemy import select

from service import create_app
from service.infra import runtime as runtimes
from service.admin import login_limits
from service.api import token_limits
from service.models import AuditEvent
from tests.service.admin_support import csrf
from tests.service.admin_support import login
from tests.service.admin_support import make_org
from tests.service.api_data import make_world

PROXY = {"REMOTE_ADDR": "10.0.0.2"}
WRONG = "not the password at all"


@pytest.fixture
def proxied(config, redis, runtime):
    """A browser reaching the app through one trusted reverse proxy at 10.0.0.2."""
    app = create_app(dataclasses.replace(config, trusted_proxies=1), redis=redis)
    app.extensions["svar"] = runtime
    runtimes.install(runtime)
    client = app.test_client()
    client.environ_base.update({"HTTP_ACCEPT_LANGUAGE": "en", **PROXY})
    return client


def login_from(client, email, password, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf(client)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token}, headers=headers)


def password_checks(runtime):
    """Passwords argon2 actually checked and found wrong: one audit entry each."""
    with runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(("login_failed", "login_locked")), AuditEvent.detail.is_(None)))


def test_behind_a_trusted_proxy_each_forwarded_client_is_limited_apart(proxied, runtime):
    org = make_org(runtime)
    for number in range(login_limits.IP_LIMIT):
        login_from(proxied, f"guess{number}@testby.no", WRONG, forwarded_for="198.51.100.7")
    assert login_from(proxied, org.admin, WRONG, forwarded_for="198.51.100.7").status_code == 429
    # Another client behind the same proxy logs in: the proxy's own address is not what is counted.
    assert login_from(proxied, org.admin, "correct horse battery staple", forwarded_for="198.51.100.8").status_code == 302
    with runtime.transaction() as session:
        addresses = set(session.scalars(select(AuditEvent.ip)))
    assert addresses == {"198.51.100.7", "198.51.100.8"}


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(client, runtime):
    org = make_org(runtime)
    client.environ_base.update(PROXY)
    for number in range(login_limits.IP_LIMIT):
        login_from(client, f"guess{number}@testby.no", WRONG, forwarded_for=f"198.51.100.{number}")
    response = login_from(client, org.admin, "correct horse battery staple", forwarded_for="203.0.113.99")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_one_clients_wrong_tokens_do_not_block_another(proxied, runtime):
    world = make_world(runtime)
    guess = {"Authorization": "Bearer svar_guess", "X-Forwarded-For": "198.51.100.7"}
    for _ in range(token_limits.LIMIT):
        assert proxied.get("/api/v1/units", headers=guess).status_code == 401
    assert proxied.get("/api/v1/units", headers=guess).status_code == 429
    other = {"Authorization": "Bearer svar_other", "X-Forwarded-For": "198.51.100.8"}
    assert proxied.get("/api/v1/units", headers=other).status_code == 401
    assert proxied.get("/api/v1/units", headers={**world.headers, "X-Forwarded-For": "198.51.100.7"}).status_code == 200


def test_a_locked_email_does_not_block_another_user_from_the_same_address(client, runtime):
    org = make_org(runtime)
    for _ in range(login_limits.ACCOUNT_LIMIT):
        login(client, org.admin, WRONG)
    assert login(client, org.admin).status_code == 429
    assert login(client, org.coordinator).status_code == 302


def test_many_addresses_guessing_many_accounts_meet_the_deployment_ceiling(client, runtime, monkeypatch):
    # A lower ceiling than production's 200 only to keep the test short; the code path is the same.
    monkeypatch.setattr(login_limits, "GLOBAL_LIMIT", 30)
    make_org(runtime)
    for number in range(login_limits.GLOBAL_LIMIT):
        address = {"REMOTE_ADDR": f"198.51.{number // 200}.{number % 200}"}
        client.post("/admin/login", data={"email": f"u{number}@testby.no", "password": WRONG, "csrf_token": csrf(client)},
                    environ_base=address)
    assert password_checks(runtime) == login_limits.GLOBAL_LIMIT
    response = client.post("/admin/login", data={"email": "fresh@testby.no", "password": WRONG, "csrf_token": csrf(client)},
                           environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert response.status_code == 429
    assert password_checks(runtime) == login_limits.GLOBAL_LIMIT


def test_a_reserved_slot_is_taken_before_the_check_and_given_back_on_success(redis):
    for _ in range(login_limits.ACCOUNT_LIMIT):
        assert login_limits.reserve(redis, "a@x.no", "192.0.2.1") == 0
    # Five checks under way and none finished: a sixth gets no slot.
    assert login_limits.reserve(redis, "a@x.no", "192.0.2.1") == login_limits.ACCOUNT
    login_limits.succeeded(redis, "a@x.no", "192.0.2.1")
    assert login_limits.reserve(redis, "a@x.no", "192.0.2.1") == 0
