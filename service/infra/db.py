"""Engine and sessions for SQLite (development) and PostgreSQL (production)."""
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from . import sqlite_writer


# Seconds SQLite waits for another writer's lock when no timeout is given.
SQLITE_BUSY_TIMEOUT = 10.0


def _sqlite_pragmas(engine, busy_timeout: float, database: str | None):
    """WAL for concurrent readers; BEGIN IMMEDIATE so one writer at a time holds the lock, queued in the kernel."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        if database and isinstance(dbapi_connection, sqlite_writer.Connection):
            dbapi_connection.writer_lock = sqlite_writer.WriterLock(sqlite_writer.lock_path(database))
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are zeroed, not left in free pages for anyone with the file (A4).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        lock = getattr(connection.connection.dbapi_connection, "writer_lock", None)
        if lock is not None:
            # Past the timeout, BEGIN IMMEDIATE waits (and fails) as it would without the queue.
            lock.acquire(busy_timeout)
        # A plain BEGIN upgrades to a write lock late and fails with
        # "database is locked" under contention; IMMEDIATE queues instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_engines: dict = {}
_factories: dict = {}


def engine_for(url: str, lock_timeout: float | None = None):
    """One engine (and connection pool) per database URL, lock timeout and process."""
    key = (url, lock_timeout)
    if key not in _engines:
        _engines[key] = _create(url, lock_timeout)
    return _engines[key]


def _create(url: str, lock_timeout: float | None):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        busy = SQLITE_BUSY_TIMEOUT if lock_timeout is None else lock_timeout
        file = parsed.database if parsed.database and parsed.database != ":memory:" else None
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy, "factory": sqlite_writer.Connection}
        )
        _sqlite_pragmas(engine, busy, file)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    connect_args = {}
    if lock_timeout is not None:
        # A row lock held too long (a stuck transaction) fails the statement
        # instead of hanging the webhook past the provider's own timeout.
        connect_args["options"] = f"-c lock_timeout={int(lock_timeout * 1000)}"
    engine = create_engine(url, pool_size=5, max_overflow=5, connect_args=connect_args)
    _ping_after_idle(engine)
    return engine


# A pooled connection unused for longer than this is pinged before use (a
# server restart or an idle timeout may have closed it). One in steady use is
# not: a ping is a round trip and ~10% of an inbound step's CPU, and a
# connection that died under load fails its statement, which invalidates the
# whole pool, and the request answers 503 for the provider to retry.
PING_AFTER_IDLE = 2.0


def _ping_after_idle(engine):
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool discards this connection and checks out another (SQLAlchemy's recipe).
            raise DisconnectionError() from exc


def session_factory(url: str, lock_timeout: float | None = None) -> sessionmaker:
    key = (url, lock_timeout)
    if key not in _factories:
        _factories[key] = sessionmaker(bind=engine_for(url, lock_timeout), expire_on_commit=False)
    return _factories[key]


@contextmanager
def transaction(url: str, lock_timeout: float | None = None):
    """A session whose work commits on success and rolls back on any error."""
    session: Session = session_factory(url, lock_timeout)()
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
