"""`svar users create` and `svar tokens create` against the test database."""
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.accounts.tokens import authenticate
from service.cli import main
from service.models import ApiToken
from service.models import Organisation
from service.models import User
from service.accounts.passwords import verify_password
from tests.conftest import TEST_DATA_KEY

PASSWORD = "correct horse battery"


@pytest.fixture
def cli(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SVAR_DATA_KEY", TEST_DATA_KEY)
    runner = CliRunner()
    return lambda *args, **kwargs: runner.invoke(main, list(args), catch_exceptions=False, **kwargs)


def test_users_create_makes_the_organisation_once(cli, runtime):
    first = cli("users", "create", "--email", "Ada@Testby.no", "--organisation", "Testby kommune", "--password", PASSWORD)
    assert first.exit_code == 0 and "new organisation" in first.output
    second = cli(
        "users", "create", "--email", "bo@testby.no", "--role", "coordinator", "--organisation", "Testby kommune",
        "--password-stdin", input=PASSWORD + "\n",
    )
    assert second.exit_code == 0 and "new organisation" not in second.output
    with runtime.session() as session:
        assert len(session.scalars(select(Organisation)).all()) == 1
        users = {user.email: user for user in session.scalars(select(User))}
    assert users["ada@testby.no"].role == "admin" and users["bo@testby.no"].role == "coordinator"
    assert verify_password(users["ada@testby.no"].password_hash, PASSWORD)
    assert PASSWORD not in users["ada@testby.no"].password_hash


def test_users_create_prompts_and_refuses_weak_or_taken(cli):
    prompted = cli("users", "create", "--email", "a@x.no", "--organisation", "X", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert cli("users", "create", "--email", "a@x.no", "--organisation", "X", "--password", PASSWORD).exit_code == 1
    assert cli("users", "create", "--email", "b@x.no", "--organisation", "X", "--password", "short").exit_code == 2
    assert cli("users", "create", "--email", "c@x.no", "--organisation", "X", "--role", "owner", "--password", PASSWORD).exit_code == 2


def test_tokens_create_prints_a_working_token_once(cli, runtime):
    cli("users", "create", "--email", "ada@testby.no", "--organisation", "Testby", "--password", PASSWORD)
    result = cli("tokens", "create", "--email", "ada@testby.no", "--name", "HR import")
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert token.startswith("svar_") and "\n" not in token
    with runtime.transaction() as session:
        assert authenticate(session, f"Bearer {token}").email == "ada@testby.no"
        assert session.scalar(select(ApiToken.name)) == "HR import"
    assert cli("tokens", "create", "--email", "nobody@x.no", "--name", "x").exit_code == 1


def test_passwords_hash_verify_and_rehash():
    from service.accounts import passwords

    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, PASSWORD) and not passwords.verify_password(stored, "wrong")
    assert not passwords.verify_password("not a hash", PASSWORD) and not passwords.verify_password("", PASSWORD)
    assert not passwords.needs_rehash(stored)
    weaker = "$argon2id$v=19$m=8,t=1,p=1$" + stored.split("$")[-2] + "$" + stored.split("$")[-1]
    assert passwords.needs_rehash(weaker)
