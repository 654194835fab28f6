"""Fixtures shared by every test: a fresh database, a fake Redis, the app."""
import os

import fakeredis
import pytest
from sqlalchemy import text

from service import create_app
from service.infra import db
from service.infra import runtime as runtimes
from service.config import Config
from service.models import Base
from service.infra.runtime import Runtime

TEST_DATA_KEY = "test-data-key"


@pytest.fixture(scope="session")
def postgres_url():
    """The PostgreSQL of TEST_DATABASE_URL with a fresh schema, or None."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = db.engine_for(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(engine)
    return url


@pytest.fixture
def database_url(tmp_path, postgres_url):
    """SQLite in a temp dir, or the test PostgreSQL emptied."""
    if postgres_url:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with db.engine_for(postgres_url).begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield postgres_url
        return
    url = f"sqlite:///{tmp_path / 'test.db'}"
    Base.metadata.create_all(db.engine_for(url))
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
    """The test's runtime, also the one jobs get from `service.infra.runtime.current()`."""
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    return runtime


@pytest.fixture
def app(config, redis, runtime):
    app = create_app(config, redis=redis)
    # One runtime for app and test code, so both see the same queues.
    app.extensions["svar"] = runtime
    runtimes.install(runtime)
    return app


@pytest.fixture
def client(app):
    """A browser that prefers English, so tests read the source texts."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
