"""`svar tokens create|list|revoke`: API bearer tokens, the secret printed once."""
import click
from sqlalchemy import select

from ..accounts import audit
from ..accounts.tokens import create_token
from ..accounts.tokens import digest
from ..accounts.tokens import revoke_token
from ..config import Config
from ..models import ApiToken
from ..models import User
from ..infra.runtime import Runtime

# The audit log's actor for what was done at the server's command line.
CLI_ACTOR = "svar command line"


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
        audit.record(session, audit.TOKEN_CREATED, organisation_id=user.organisation_id, actor=CLI_ACTOR,
                     object_type="api_token", object_id=session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest(token))),
                     detail=f"{name.strip()[:100]} ({user.email})")
    # Only the token on stdout, so scripts can capture it; the note goes to stderr.
    click.echo(token)
    click.echo("Keep it safe: it cannot be shown again.", err=True)


@tokens.command("list")
@click.option("--email", help="Only this user's tokens.")
def list_tokens(email):
    """Every token: id, user, name, created, last used, revoked. Never the secret."""
    with Runtime(Config()).transaction() as session:
        query = select(ApiToken).join(User, ApiToken.user_id == User.id).order_by(ApiToken.id)
        if email:
            query = query.where(User.email == email.strip().lower())
        rows = session.scalars(query).all()
        click.echo("id\tuser\tname\tcreated\tlast used\tstate")
        for row in rows:
            used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never"
            state = "revoked" if row.revoked else "active"
            click.echo(f"{row.id}\t{row.user.email}\t{row.name}\t{row.created_at:%Y-%m-%d %H:%M}\t{used}\t{state}")


@tokens.command()
@click.argument("token_id", type=click.IntRange(min=1))
def revoke(token_id):
    """Revoke a token by its id (from `svar tokens list`); it answers 401 at once."""
    with Runtime(Config()).transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise click.ClickException(f"no token with id {token_id}")
        if not row.revoked:
            revoke_token(session, token_id)
            audit.record(session, audit.TOKEN_REVOKED, organisation_id=row.user.organisation_id, actor=CLI_ACTOR,
                         object_type="api_token", object_id=row.id, detail=f"{row.name} ({row.user.email})")
    click.echo(f"Token {token_id} is revoked.")
