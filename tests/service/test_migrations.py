"""The Alembic migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from service.infra.migrate import upgrade
from service.models import Base


def test_migrations_match_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade(url)
    with create_engine(url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == [], "models changed without a migration: run service.infra.migrate.revision"


def test_migrations_are_one_line_of_history():
    from alembic.script import ScriptDirectory

    from service.infra.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def _migration_urls(tmp_path):
    """A fresh SQLite file, and a private schema of the test PostgreSQL when there is one."""
    import os

    urls = [f"sqlite:///{tmp_path / 'counted.db'}"]
    postgres = os.environ.get("TEST_DATABASE_URL")
    if postgres:
        from sqlalchemy import text

        with create_engine(postgres).connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            connection.execute(text("CREATE SCHEMA migration_check"))
            connection.commit()
        urls.append(postgres + "?options=-csearch_path%3Dmigration_check")
    return urls


def test_0002_counts_the_responses_campaigns_already_have(tmp_path):
    from sqlalchemy import text

    from service.infra import db

    for url in _migration_urls(tmp_path):
        upgrade(url, "0001")
        with db.engine_for(url).begin() as connection:
            for index, campaign_id in enumerate([7, 7, 7, 9]):
                connection.execute(text(
                    "INSERT INTO responses (id, campaign_id, unit_id, language, complete) VALUES (:id, :c, 1, 'nb', true)"
                ), {"id": f"r{index}", "c": campaign_id})
        upgrade(url)
        with db.engine_for(url).connect() as connection:
            counts = dict(connection.execute(text("SELECT campaign_id, responses FROM response_counts")).all())
            if connection.dialect.name == "postgresql":
                differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
                assert differences == []
        assert counts == {7: 3, 9: 1}
        db.dispose_all()
