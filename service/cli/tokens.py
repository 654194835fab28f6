"""`svar tokens create`: an API bearer token, printed once."""
import click
from sqlalchemy import select

from ..auth_tokens import create_token
from ..config import Config
from ..models import User
from ..runtime import Runtime


@click.group()
def tokens():
    """Bearer tokens for the JSON API."""


@tokens.command()
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'HR system import'.")
def create(email, name):
    """Create a token; it is shown this once and stored only as a hash."""
    if not name.strip():
        raise click.BadParameter("must not be blank", param_hint="--name")
    with Runtime(Config()).transaction() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"no active user with e-mail {email}")
        token = create_token(session, user, name)
    # Only the token on stdout, so scripts can capture it; the note goes to stderr.
    click.echo(token)
    click.echo("Keep it safe: it cannot be shown again.", err=True)
