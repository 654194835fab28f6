"""API tokens listed without their secret and revoked in the admin view, the API and the CLI; each audited."""
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.models import ApiToken
from service.models import AuditEvent
from service.models import User
from service.accounts.passwords import hash_password
from tests.conftest import TEST_DATA_KEY
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import login
from tests.service.admin_support import post
from tests.service.api_data import add_user
from tests.service.api_data import make_world


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def token_ids(runtime):
    with runtime.transaction() as session:
        return {row.user.email + ":" + row.name: row.id for row in session.scalars(select(ApiToken))}


def audit_of(runtime, action):
    with runtime.transaction() as session:
        return [(event.actor, event.object_id, event.detail) for event in
                session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_the_api_lists_tokens_without_secrets_and_revokes_at_once(client, runtime):
    world = make_world(runtime)
    coordinator = add_user(runtime, world, "coordinator", world.unit_ids[:1])
    other_world = make_world(runtime, name="Annenby kommune")
    listed = client.get("/api/v1/tokens", headers=world.headers).json["tokens"]
    assert len(listed) == 2 and all(set(row) == {"id", "name", "user", "created_at", "last_used_at", "revoked"} for row in listed)
    assert world.token not in str(listed) and coordinator not in str(listed)
    # A coordinator sees only their own; nobody sees another organisation's.
    mine = client.get("/api/v1/tokens", headers=bearer(coordinator)).json["tokens"]
    assert len(mine) == 1
    foreign = client.get("/api/v1/tokens", headers=other_world.headers).json["tokens"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{foreign}", headers=world.headers).status_code == 404
    admins = next(row["id"] for row in listed if row["id"] != mine[0]["id"])
    assert client.delete(f"/api/v1/tokens/{admins}", headers=bearer(coordinator)).status_code == 404
    # The administrator revokes the coordinator's token: it answers 401 on its very next call.
    response = client.delete(f"/api/v1/tokens/{mine[0]['id']}", headers=world.headers)
    assert response.status_code == 200 and response.json["revoked"] is True
    assert client.get("/api/v1/tokens", headers=bearer(coordinator)).status_code == 401
    assert client.get("/api/v1/tokens", headers=other_world.headers).status_code == 200
    [(actor, object_id, detail)] = audit_of(runtime, "token_revoked")
    assert actor.startswith("admin") and object_id == str(mine[0]["id"]) and "via the API" in detail


def test_the_admin_view_lists_and_revokes_tokens(client, runtime, app):
    world = make_world(runtime)
    coordinator_token = add_user(runtime, world, "coordinator", world.unit_ids[:1])
    with runtime.transaction() as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        for user in users:
            user.password_hash = hash_password(PASSWORD)
        admin_email, coordinator_email = users[0].email, users[1].email
    ids = token_ids(runtime)
    coordinator_id = ids[coordinator_email + ":tests"]
    # A coordinator sees their own token only, and cannot revoke the administrator's.
    coordinator = app.test_client()
    login(coordinator, coordinator_email)
    page = coordinator.get("/admin/tokens").get_data(as_text=True)
    assert coordinator_email in page and admin_email not in page and coordinator_token not in page
    admin_id = ids[admin_email + ":tests"]
    assert post(coordinator, f"/admin/tokens/{admin_id}/revoke", page="/admin/tokens").status_code == 404
    # The administrator sees both and revokes the coordinator's.
    login(client, admin_email)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert admin_email in page and coordinator_email in page and world.token not in page
    assert post(client, f"/admin/tokens/{coordinator_id}/revoke", page="/admin/tokens").status_code == 302
    assert client.get("/api/v1/units", headers=bearer(coordinator_token)).status_code == 401
    assert client.get("/api/v1/units", headers=world.headers).status_code == 200
    assert audit_of(runtime, "token_revoked") == [(admin_email, str(coordinator_id), f"tests ({coordinator_email})")]
    assert "Revoked an API token" in client.get("/admin/audit").get_data(as_text=True)


@pytest.fixture
def cli(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SVAR_DATA_KEY", TEST_DATA_KEY)
    runner = CliRunner()
    return lambda *args, **kwargs: runner.invoke(main, list(args), catch_exceptions=False, **kwargs)


def test_the_cli_creates_lists_and_revokes_tokens_with_audit_entries(cli, client, runtime):
    cli("users", "create", "--email", "ada@testby.no", "--organisation", "Testby", "--password", PASSWORD)
    token = cli("tokens", "create", "--email", "ada@testby.no", "--name", "HR import").stdout.strip()
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 200
    listing = cli("tokens", "list").stdout
    assert "ada@testby.no\tHR import" in listing and "active" in listing and token not in listing
    token_id = token_ids(runtime)["ada@testby.no:HR import"]
    result = cli("tokens", "revoke", str(token_id))
    assert result.exit_code == 0 and f"Token {token_id} is revoked." in result.stdout
    assert client.get("/api/v1/units", headers=bearer(token)).status_code == 401
    assert "revoked" in cli("tokens", "list", "--email", "ada@testby.no").stdout
    assert cli("tokens", "revoke", "999").exit_code == 1
    assert cli("tokens", "revoke", "abc").exit_code == 2
    assert audit_of(runtime, "token_created") == [("svar command line", str(token_id), "HR import (ada@testby.no)")]
    assert audit_of(runtime, "token_revoked") == [("svar command line", str(token_id), "HR import (ada@testby.no)")]
