"""Database migrations with Alembic, driven from code (`svar db upgrade`, `make run`)."""
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head"):
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str):
    """Autogenerate a migration from the difference between models and database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
