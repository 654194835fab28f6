"""`svar db upgrade`: migrate the database and store the bundled survey versions."""
import click

from ..config import Config
from ..infra.migrate import upgrade as migrate_upgrade
from ..infra.runtime import Runtime
from ..surveys import sync_bundled


@click.group()
def db():
    """Database schema."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision):
    """Migrate to REVISION (default: the newest) and sync bundled surveys."""
    config = Config()
    migrate_upgrade(config.database_url, revision)
    with Runtime(config).transaction() as session:
        versions = sync_bundled(session)
    click.echo(f"database at {revision}; {len(versions)} bundled survey version(s) stored")
