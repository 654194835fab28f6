"""Engine and sessions for SQLite (development) and PostgreSQL (production)."""
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker


def _sqlite_pragmas(engine):
    """WAL for concurrent readers; BEGIN IMMEDIATE so one writer at a time holds the lock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A plain BEGIN upgrades to a write lock late and fails with
        # "database is locked" under contention; IMMEDIATE queues instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_engines: dict = {}
_factories: dict = {}


def engine_for(url: str):
    """One engine (and connection pool) per database URL and process."""
    if url not in _engines:
        _engines[url] = _create(url)
    return _engines[url]


def _create(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _sqlite_pragmas(engine)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def session_factory(url: str) -> sessionmaker:
    if url not in _factories:
        _factories[url] = sessionmaker(bind=engine_for(url), expire_on_commit=False)
    return _factories[url]


@contextmanager
def transaction(url: str):
    """A session whose work commits on success and rolls back on any error."""
    session: Session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_all():
    """Forget engines: after a fork, or between tests on different databases."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()
