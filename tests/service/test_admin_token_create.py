"""An administrator creates API tokens in the admin view: shown once, audited, acting as the chosen user."""
import re

from sqlalchemy import select

from service.models import ApiToken
from service.models import AuditEvent
from service.models import User
from service.accounts.passwords import hash_password
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import login
from tests.service.admin_support import post
from tests.service.api_data import add_user
from tests.service.api_data import make_world

TOKEN = re.compile(r'<code id="new-token">(svar_[A-Za-z0-9_-]+)</code>')


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def emails(runtime):
    with runtime.transaction() as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        for user in users:
            user.password_hash = hash_password(PASSWORD)
        return {user.role: (user.id, user.email) for user in users}


def test_an_administrator_creates_a_token_shown_once_and_audited(client, runtime):
    world = make_world(runtime)
    add_user(runtime, world, "coordinator", world.unit_ids[:1])
    people = emails(runtime)
    coordinator_id, coordinator_email = people["coordinator"]
    admin_email = people["admin"][1]
    login(client, admin_email)
    response = post(client, "/admin/tokens", {"name": "HR import", "user_id": str(coordinator_id)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [token] = TOKEN.findall(response.get_data(as_text=True))
    # The token acts as the coordinator, with her rights, as `svar tokens create --email` would give.
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 403
    mine = client.get("/api/v1/tokens", headers=bearer(token)).json["tokens"]
    assert {row["user"] for row in mine} == {coordinator_email} and "HR import" in {row["name"] for row in mine}
    # Shown once: the list afterwards names it and never shows the secret again.
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "HR import" in page and token not in page
    with runtime.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "HR import"))
        assert token not in row.token_hash
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "token_created")).all()
        assert [(event.actor, event.object_id, event.detail) for event in events] == [
            (admin_email, str(row.id), f"HR import ({coordinator_email})")
        ]


def test_a_coordinator_may_not_create_tokens(app, runtime):
    world = make_world(runtime)
    add_user(runtime, world, "coordinator", world.unit_ids[:1])
    people = emails(runtime)
    coordinator = app.test_client()
    login(coordinator, people["coordinator"][1])
    assert "Create token" not in coordinator.get("/admin/tokens").get_data(as_text=True)
    response = post(coordinator, "/admin/tokens", {"name": "mine", "user_id": str(people["coordinator"][0])})
    assert response.status_code == 403
    with runtime.transaction() as session:
        assert session.scalar(select(ApiToken).where(ApiToken.name == "mine")) is None


def test_no_token_for_another_organisation_or_without_a_name(client, runtime):
    world = make_world(runtime)
    other = make_world(runtime, name="Annenby kommune")
    emails(runtime)
    login(client, "admin@testby.no")
    foreign = post(client, "/admin/tokens", {"name": "sneaky", "user_id": str(other.user_id)})
    blank = post(client, "/admin/tokens", {"name": "  ", "user_id": str(world.user_id)})
    assert (foreign.status_code, blank.status_code) == (400, 400)
    assert not TOKEN.search(foreign.get_data(as_text=True)) and not TOKEN.search(blank.get_data(as_text=True))
    with runtime.transaction() as session:
        assert session.scalars(select(ApiToken.name)).all() == ["tests", "tests"]
