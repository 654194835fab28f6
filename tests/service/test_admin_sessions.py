"""A copied session cookie is worth nothing once the session has ended on the server."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.models import AuditEvent
from service.models import LoginSession
from service.models import User
from service.models import utcnow
from tests.service.admin_support import login
from tests.service.admin_support import make_org
from tests.service.admin_support import post

COOKIE = "svar_session"


def stolen_copy(app, client):
    """A second browser holding a byte-for-byte copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    assert thief.get("/admin/").status_code == 200
    return thief


def user_id(runtime, email):
    with runtime.transaction() as session:
        return session.scalar(select(User.id).where(User.email == email))


def test_a_cookie_replayed_after_logout_is_refused(app, client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    thief = stolen_copy(app, client)
    post(client, "/admin/logout", page="/admin/")
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_new_password_ends_every_copy_of_the_session(app, client, runtime):
    org = make_org(runtime)
    coordinator = app.test_client()
    login(coordinator, org.coordinator)
    thief = stolen_copy(app, coordinator)
    login(client, org.admin)
    target = f"/admin/users/{user_id(runtime, org.coordinator)}"
    response = post(client, target, {"role": "coordinator", "unit_ids": str(org.unit_ids[0]), "active": "1",
                                     "password": "another long password"})
    assert response.status_code == 302
    assert thief.get("/admin/").status_code == 302
    assert coordinator.get("/admin/").status_code == 302
    # The administrator's own session is untouched.
    assert client.get("/admin/").status_code == 200


def test_deactivation_ends_every_copy_of_the_session(app, client, runtime):
    org = make_org(runtime)
    coordinator = app.test_client()
    login(coordinator, org.coordinator)
    thief = stolen_copy(app, coordinator)
    login(client, org.admin)
    target = f"/admin/users/{user_id(runtime, org.coordinator)}"
    assert post(client, target, {"role": "coordinator", "unit_ids": str(org.unit_ids[0])}).status_code == 302
    assert thief.get("/admin/").status_code == 302
    # Reactivating does not bring the old cookie back to life.
    assert post(client, target, {"role": "coordinator", "unit_ids": str(org.unit_ids[0]), "active": "1"}).status_code == 302
    assert thief.get("/admin/").status_code == 302
    with runtime.transaction() as session:
        assert all(row.ended_at is not None for row in session.scalars(select(LoginSession).where(LoginSession.user_id == user_id(runtime, org.coordinator))))


def test_log_out_everywhere_ends_every_session_and_is_audited(app, client, runtime):
    org = make_org(runtime)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, org.coordinator)
    login(phone, org.coordinator)
    thief = stolen_copy(app, laptop)
    login(client, org.admin)
    target = f"/admin/users/{user_id(runtime, org.coordinator)}"
    assert "Logged in now: 2 session(s)." in client.get(target).get_data(as_text=True)
    response = post(client, target + "/logout-everywhere", page=target)
    assert response.status_code == 302
    for browser in (laptop, phone, thief):
        assert browser.get("/admin/").status_code == 302
    assert login(laptop, org.coordinator).status_code == 302
    with runtime.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "sessions_ended"))
        assert event.actor == org.admin and event.detail == f"{org.coordinator}: 2 session(s) ended"


def test_only_administrators_may_log_others_out(app, client, runtime):
    org = make_org(runtime)
    login(client, org.coordinator)
    target = f"/admin/users/{user_id(runtime, org.admin)}/logout-everywhere"
    assert post(client, target, page="/admin/").status_code == 403


def test_last_seen_is_written_at_most_once_a_minute(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    with runtime.transaction() as session:
        first = session.scalars(select(LoginSession)).one().last_seen_at
    for _ in range(3):
        assert client.get("/admin/").status_code == 200
    with runtime.transaction() as session:
        assert session.scalars(select(LoginSession)).one().last_seen_at == first


@pytest.mark.parametrize("column, age", [("last_seen_at", 31 * 60), ("created_at", 8 * 3600 + 60)])
def test_an_expired_session_stays_ended_when_its_cookie_comes_back(client, runtime, column, age):
    org = make_org(runtime)
    login(client, org.admin)
    cookie = client.get_cookie(COOKIE).value
    with runtime.transaction() as session:
        setattr(session.scalars(select(LoginSession)).one(), column, utcnow() - timedelta(seconds=age))
    assert client.get("/admin/").status_code == 302
    with runtime.transaction() as session:
        row = session.scalars(select(LoginSession)).one()
        assert row.ended_at is not None
        row.last_seen_at = row.created_at = utcnow()
    client.set_cookie(COOKIE, cookie)
    assert client.get("/admin/").status_code == 302


def test_the_cookie_holds_no_user_id_only_a_random_key(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    with client.session_transaction() as session:
        key = session["_user_id"]
    assert len(key) >= 40 and str(user_id(runtime, org.admin)) != key
    with runtime.transaction() as session:
        assert key not in session.scalars(select(LoginSession.key_hash)).all()
