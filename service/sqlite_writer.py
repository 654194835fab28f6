"""SQLite writers queue in the kernel: a file lock taken before BEGIN IMMEDIATE, released after COMMIT or ROLLBACK.

SQLite lets one writer in at a time and makes the others retry with sleeps
that grow to 100 ms (its busy handler). Under load the lock is then often
free while every waiter sleeps, and a waiter can lose one race after another:
the web workers idled at 115% CPU of 200% and the step's p99 was 0.5-1 s.
An exclusive flock() on a file next to the database wakes a waiter as soon as
the holder lets go. The lock only orders Svar's own connections: SQLite's lock
stays the authority, and its busy timeout still applies to anyone else.

A wait longer than the lock timeout gives up on the file lock and lets
BEGIN IMMEDIATE decide (and fail with "database is locked" after the busy
timeout, as before), so a stuck holder still turns into a 503, not a hang.
"""
import fcntl
import logging
import os
import sqlite3
import threading

log = logging.getLogger(__name__)


def lock_path(database: str) -> str:
    return database + "-writer"


class WriterLock:
    """Held by one connection between BEGIN IMMEDIATE and its COMMIT or ROLLBACK."""

    def __init__(self, path: str):
        self.path = path
        self._fd = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting at most `timeout` seconds; False if that passed first."""
        if self._fd is not None or self.path is None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            # No lock file beside the database (a read-only folder): SQLite's own retries, as before.
            log.warning("no writer lock file beside the SQLite database; writers queue by SQLite's retries")
            self.path = None
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not _wait(fd, timeout):
                # The helper thread owns fd now and closes it.
                return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            # Closing the file releases the lock.
            os.close(fd)


def _wait(fd: int, timeout: float) -> bool:
    """Block in flock() on a helper thread, so the caller can stop waiting; True once fd holds the lock."""
    decided = threading.Lock()
    acquired = threading.Event()
    abandoned = []

    def block():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass
        with decided:
            if abandoned:
                os.close(fd)
                return
            acquired.set()

    threading.Thread(target=block, name="sqlite-writer-wait", daemon=True).start()
    acquired.wait(timeout)
    with decided:
        if acquired.is_set():
            return True
        abandoned.append(True)
        return False


class Connection(sqlite3.Connection):
    """A pysqlite connection that gives the writer lock back when its transaction ends (sqlite3.connect factory)."""

    writer_lock: WriterLock | None = None

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def close(self):
        try:
            super().close()
        finally:
            self._release()

    def _release(self):
        if self.writer_lock is not None:
            self.writer_lock.release()
