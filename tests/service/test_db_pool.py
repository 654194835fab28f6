"""PostgreSQL connections: pinged before use only after an idle spell, and a dead one is replaced, not handed out."""
import pytest
from sqlalchemy import text

from service.infra import db


@pytest.fixture
def engine(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to lose a connection to")
    db.dispose_all()
    engine = db.engine_for(database_url)
    yield engine
    db.dispose_all()


@pytest.fixture
def pings(engine, monkeypatch):
    seen = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection):
        seen.append(True)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_in_steady_use_is_not_pinged(engine, pings):
    for _ in range(5):
        backend_pid(engine)
    assert pings == []


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(engine, pings, monkeypatch):
    first = backend_pid(engine)
    with db.engine_for(engine.url.render_as_string(hide_password=False) + "?application_name=killer").connect() as killer:
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)

    second = backend_pid(engine)

    assert pings and second != first
