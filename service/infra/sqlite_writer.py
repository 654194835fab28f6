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
import queue
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
        self._waiter = None

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
            if self._waiter is None:
                self._waiter = _Waiter()
            if not self._waiter.wait(fd, timeout):
                # The waiter thread owns fd now and closes it.
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

    def close(self):
        """Let go of the lock and end the waiter thread: the connection is closing."""
        self.release()
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.stop()


class _Wait:
    """One wait for the lock: the waiter thread blocks in flock() on fd, the caller waits for it at most its timeout."""

    def __init__(self, fd: int):
        self.fd = fd
        self.decided = threading.Lock()
        self.acquired = threading.Event()
        self.abandoned = False


class _Waiter:
    """A thread that blocks in flock() for one WriterLock's waits, so the caller can stop waiting.

    Started at the lock's first contended wait and kept: starting a thread for
    every wait cost ~0.2 ms of CPU, and under load most of a web worker's
    transactions wait.
    """

    def __init__(self):
        self._waits: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="sqlite-writer-wait", daemon=True).start()

    def wait(self, fd: int, timeout: float) -> bool:
        """True once fd holds the lock; False after `timeout` seconds, and the waiter closes fd when it gets it."""
        wait = _Wait(fd)
        self._waits.put(wait)
        wait.acquired.wait(timeout)
        with wait.decided:
            if wait.acquired.is_set():
                return True
            wait.abandoned = True
            return False

    def stop(self):
        """End the thread once the waits before this are decided."""
        self._waits.put(None)

    def _run(self):
        while True:
            wait = self._waits.get()
            if wait is None:
                return
            try:
                fcntl.flock(wait.fd, fcntl.LOCK_EX)
            except OSError:
                pass
            with wait.decided:
                if wait.abandoned:
                    os.close(wait.fd)
                else:
                    wait.acquired.set()


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
            if self.writer_lock is not None:
                self.writer_lock.close()

    def _release(self):
        if self.writer_lock is not None:
            self.writer_lock.release()
