"""SQLite writers queue on a file lock beside the database, and every way a transaction ends gives it back."""
import fcntl
import os
import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.infra import db
from service.infra.sqlite_writer import WriterLock
from service.infra.sqlite_writer import lock_path


@pytest.fixture
def database(tmp_path):
    path = str(tmp_path / "writer.db")
    url = f"sqlite:///{path}"
    with db.transaction(url) as session:
        session.execute(text("CREATE TABLE notes (body TEXT)"))
    yield url, path
    db.dispose_all()


def other_writer(path) -> WriterLock:
    """The lock as another process's connection sees it."""
    return WriterLock(lock_path(path))


def held(path) -> bool:
    """Whether some writer holds the lock now; asks without waiting (and without a waiting thread)."""
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_an_open_transaction_holds_the_lock_and_commit_gives_it_back(database):
    url, path = database
    with db.transaction(url) as session:
        session.execute(text("INSERT INTO notes VALUES ('held')"))
        assert held(path)
    assert not held(path)


def test_rollback_gives_the_lock_back(database):
    url, path = database
    with pytest.raises(ZeroDivisionError):
        with db.transaction(url) as session:
            session.execute(text("INSERT INTO notes VALUES ('undone')"))
            1 / 0
    assert not held(path)


def test_a_waiting_writer_goes_in_when_the_holder_commits(database):
    url, path = database
    holder = other_writer(path)
    assert holder.acquire(timeout=0)
    done = []

    def write():
        with db.transaction(url) as session:
            session.execute(text("INSERT INTO notes VALUES ('after')"))
        done.append(True)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=0.2)
    assert writer.is_alive() and not done
    holder.release()
    writer.join(timeout=10)
    assert done


def test_a_wait_that_gave_up_leaves_the_lock_free_once_the_holder_is_done(database):
    _url, path = database
    holder, impatient = other_writer(path), other_writer(path)
    assert holder.acquire(timeout=0)
    assert not impatient.acquire(timeout=0.05)
    holder.release()
    # The abandoned waiter takes the lock for a moment and lets go of it.
    later = other_writer(path)
    assert later.acquire(timeout=10)
    later.release()


def test_a_database_locked_outside_the_queue_fails_after_the_timeout_and_leaves_the_queue_free(database):
    url, path = database
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            with db.transaction(url, lock_timeout=0.1) as session:
                session.execute(text("INSERT INTO notes VALUES ('blocked')"))
    finally:
        outside.execute("ROLLBACK")
        outside.close()
    assert not held(path)
    with db.transaction(url, lock_timeout=0.1) as session:
        session.execute(text("INSERT INTO notes VALUES ('through')"))


def waiter_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "sqlite-writer-wait")


def test_a_lock_waits_on_one_thread_however_often_it_waits(database):
    _url, path = database
    holder, waiting = other_writer(path), other_writer(path)
    before = waiter_threads()
    for _ in range(5):
        assert holder.acquire(timeout=0)
        releaser = threading.Timer(0.02, holder.release)
        releaser.start()
        assert waiting.acquire(timeout=10)
        waiting.release()
        releaser.join()
    # Starting a thread for every wait cost ~0.2 ms of CPU a transaction under load.
    assert waiter_threads() == before + 1


def test_a_lock_waits_again_after_a_wait_that_gave_up(database):
    _url, path = database
    holder, waiting = other_writer(path), other_writer(path)
    assert holder.acquire(timeout=0)
    assert not waiting.acquire(timeout=0.05)
    releaser = threading.Timer(0.05, holder.release)
    releaser.start()
    # Queued behind the abandoned wait, which takes the lock and lets go of it first.
    assert waiting.acquire(timeout=10)
    waiting.release()
    releaser.join()
    assert not held(path)


def test_closing_the_lock_ends_its_waiter_thread(database):
    _url, path = database
    holder, waiting = other_writer(path), other_writer(path)
    before = waiter_threads()
    assert holder.acquire(timeout=0)
    releaser = threading.Timer(0.02, holder.release)
    releaser.start()
    assert waiting.acquire(timeout=10)
    releaser.join()
    assert waiter_threads() == before + 1
    waiting.close()
    assert not held(path)
    for _ in range(100):
        if waiter_threads() == before:
            break
        threading.Event().wait(0.01)
    assert waiter_threads() == before
