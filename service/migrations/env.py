"""Alembic environment: the URL comes from Config, the schema from service.models."""
from alembic import context

from service.infra import db
from service.config import Config
from service.models import Base

url = context.config.get_main_option("sqlalchemy.url") or Config().database_url


def run():
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    with db.engine_for(url).connect() as connection:
        # SQLite cannot ALTER most things in place; batch mode copies tables.
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
