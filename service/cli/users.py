"""`svar users create`: an administrator or coordinator, with the organisation if new."""
import sys

import click
from sqlalchemy import select

from ..config import Config
from ..models import Organisation
from ..models import User
from ..accounts.passwords import MIN_LENGTH
from ..accounts.passwords import hash_password
from ..infra.runtime import Runtime


@click.group()
def users():
    """People who administer surveys or follow their progress."""


@users.command()
@click.option("--email", required=True, help="Login e-mail, unique across Svar.")
@click.option("--role", type=click.Choice(["admin", "coordinator"]), default="admin", show_default=True)
@click.option("--organisation", required=True, help="Organisation name; created if it does not exist.")
@click.option("--password", help="The password; prompted for when neither this nor --password-stdin is given.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create(email, role, organisation, password, password_stdin):
    """Create a user (and their organisation if it is new)."""
    if password is not None and password_stdin:
        raise click.UsageError("give --password or --password-stdin, not both")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_LENGTH:
        raise click.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="password")
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="--email")
    name = organisation.strip()
    if not name:
        raise click.BadParameter("must not be blank", param_hint="--organisation")
    with Runtime(Config()).transaction() as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise click.ClickException(f"a user with e-mail {email} exists")
        org = session.scalar(select(Organisation).where(Organisation.name == name))
        created = org is None
        if created:
            org = Organisation(name=name)
            session.add(org)
            session.flush()
        session.add(User(organisation_id=org.id, email=email, role=role, password_hash=hash_password(password)))
    made = " (new organisation)" if created else ""
    click.echo(f"created {role} {email} in {name}{made}")
