"""Logging in to the admin view: passwords, rate limits, session lifetime, cookies, CSRF, headers."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.admin import login_limits
from service.models import AuditEvent
from service.models import LoginSession
from service.models import User
from service.models import utcnow
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import csrf
from tests.service.admin_support import login
from tests.service.admin_support import make_org


def actions(runtime):
    with runtime.transaction() as session:
        return [(event.action, event.actor) for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_pages_need_a_login_and_the_login_leads_back(client, runtime):
    org = make_org(runtime)
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/admin/login?next=/admin/users" in response.headers["Location"]
    token = csrf(client)
    response = client.post("/admin/login?next=/admin/users", data={"email": org.admin.upper(), "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200
    assert ("login", org.admin) in actions(runtime)


def test_the_next_parameter_never_leads_off_the_site(client, runtime):
    org = make_org(runtime)
    token = csrf(client)
    for target in ("https://evil.example/admin", "//evil.example/admin", "/api/v1/units"):
        response = client.post(f"/admin/login?next={target}", data={"email": org.admin, "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == "/admin/", target
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
        token = csrf(client)


def test_a_wrong_password_is_refused_keeps_the_email_and_is_audited(client, runtime):
    org = make_org(runtime)
    response = login(client, org.admin, "wrong password entirely")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "wrong" in page and f'value="{org.admin}"' in page
    assert ("login_failed", org.admin) in actions(runtime)


def test_empty_fields_get_errors_next_to_them(client, runtime):
    make_org(runtime)
    response = client.post("/admin/login", data={"email": "", "password": "", "csrf_token": csrf(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in page and 'id="password-error"' in page and 'aria-invalid="true"' in page


def test_five_failures_lock_the_account_even_for_the_right_password(client, runtime):
    org = make_org(runtime)
    for _ in range(login_limits.ACCOUNT_LIMIT - 1):
        assert login(client, org.admin, "nope nope nope").status_code == 401
    assert login(client, org.admin, "nope nope nope").status_code == 429
    response = login(client, org.admin)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert ("login_locked", org.admin) in actions(runtime)
    # Another account from elsewhere is not affected.
    assert login(client, org.coordinator).status_code == 302


def test_many_accounts_from_one_address_are_limited_too(client, runtime):
    org = make_org(runtime)
    for number in range(login_limits.IP_LIMIT):
        login(client, f"guess{number}@testby.no", "whatever whatever")
    assert login(client, org.admin).status_code == 429


def test_logins_fail_closed_when_redis_is_down(client, runtime, monkeypatch):
    org = make_org(runtime)

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    # Every command fails, whichever the limiter sends first.
    monkeypatch.setattr(runtime.redis, "execute_command", broken)
    response = login(client, org.admin)
    assert response.status_code == 503
    assert "not possible right now" in response.get_data(as_text=True)


def test_a_form_without_or_with_a_forged_csrf_token_is_refused_and_audited(client, runtime):
    org = make_org(runtime)
    response = client.post("/admin/login", data={"email": org.admin, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    login(client, org.admin)
    response = client.post("/admin/users", data={"email": "x@testby.no", "role": "admin", "password": "x" * 20, "csrf_token": "forged"})
    assert response.status_code == 400
    with runtime.transaction() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
        assert [event.actor for event in refused] == [None, org.admin]
        assert session.scalar(select(User).where(User.email == "x@testby.no")) is None


def test_the_api_and_webhooks_need_no_csrf_token(client, runtime):
    make_org(runtime)
    # Refused for the missing bearer token (401), not for CSRF (400).
    assert client.post("/api/v1/units", json={"name": "x"}).status_code == 401
    assert client.post("/webhooks/twilio/sms", data={"Body": "hi"}).status_code in (401, 403)


def test_cookies_are_http_only_lax_and_secure_on_https(client, runtime):
    org = make_org(runtime)
    response = login(client, org.admin)
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("svar_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_every_page_has_a_strict_content_security_policy(client, runtime):
    make_org(runtime)
    response = client.get("/admin/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page


@pytest.mark.parametrize("column, age", [("last_seen_at", 31 * 60), ("created_at", 8 * 3600 + 60)])
def test_sessions_expire_when_idle_or_old(client, runtime, column, age):
    org = make_org(runtime)
    login(client, org.admin)
    assert client.get("/admin/").status_code == 200
    # The server's row decides, not anything the cookie says about itself.
    with runtime.transaction() as session:
        row = session.scalars(select(LoginSession)).one()
        setattr(row, column, utcnow() - timedelta(seconds=age))
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert "session has expired" in client.get("/admin/login").get_data(as_text=True)


def test_the_progress_refresh_does_not_keep_a_session_alive(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    seen = utcnow() - timedelta(minutes=5)
    with runtime.transaction() as session:
        session.scalars(select(LoginSession)).one().last_seen_at = seen
    client.get("/admin/", headers={"X-Svar-Auto-Refresh": "1"})
    with runtime.transaction() as session:
        assert session.scalars(select(LoginSession)).one().last_seen_at == seen
    client.get("/admin/")
    with runtime.transaction() as session:
        assert session.scalars(select(LoginSession)).one().last_seen_at > seen


def test_a_deactivated_user_cannot_log_in(client, runtime):
    org = make_org(runtime)
    with runtime.transaction() as session:
        session.scalar(select(User).where(User.email == org.coordinator)).active = False
    assert login(client, org.coordinator).status_code == 401


def test_the_language_follows_the_browser_and_the_users_choice(client, runtime):
    make_org(runtime)
    page = client.get("/admin/login", headers={"Accept-Language": "da-DK,da;q=0.9"}).get_data(as_text=True)
    assert '<html lang="da">' in page
    page = client.get("/admin/login", headers={"Accept-Language": "nn,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="nb">' in page
    client.post("/admin/language", data={"language": "en", "csrf_token": csrf(client), "next": "/admin/login"})
    page = client.get("/admin/login", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="en">' in page
