"""Fixtures shared by every test: a fresh database, a fake Redis, the app."""
import os

import fakeredis
import pytest
from sqlalchemy import text

from service import create_app
from service import db
from service.config import Config
from service.models import Base
from service.runtime import Runtime

TEST_DATA_KEY = "test-data-key"


@pytest.fixture
def database_url(tmp_path):
    """SQLite in a temp dir, or the PostgreSQL of TEST_DATABASE_URL, emptied."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path / 'test.db'}"
    engine = db.engine_for(url)
    Base.metadata.drop_all(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    Base.metadata.create_all(engine)
    yield url
    db.dispose_all()


@pytest.fixture
def config(database_url):
    return Config(
        database_url=database_url,
        redis_url="redis://unused",
        secret_key="test-secret",
        data_key=TEST_DATA_KEY,
        public_base_url="https://svar.example.org",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="test-auth-token",
        twilio_from="+4759440000",
        simulator=True,
        testing=True,
    )


@pytest.fixture
def redis():
    return fakeredis.FakeRedis()


@pytest.fixture
def runtime(config, redis):
    return Runtime(config, redis=redis)


@pytest.fixture
def app(config, redis, runtime):
    app = create_app(config, redis=redis)
    # One runtime for app and test code, so both see the same queues.
    app.extensions["svar"] = runtime
    from service import runtime as runtimes

    runtimes.install(runtime)
    return app


@pytest.fixture
def client(app):
    return app.test_client()
