"""What a process needs to do its work: config, keys, database and queues."""
import os
from contextlib import contextmanager

from . import db
from . import queue as queues
from ..config import Config
from .crypto import vault_for


class Runtime:
    """Shared by the web app and the workers; holds no per-request state."""

    def __init__(self, config: Config, redis=None):
        self.config = config
        self.vault = vault_for(config.data_key)
        self._redis = redis
        self._queues = {}

    @property
    def redis(self):
        if self._redis is None:
            url = self.config.redis_url or os.environ.get("REDIS_URL")
            if not url:
                raise RuntimeError("REDIS_URL is not set; `svar run` starts an embedded Redis")
            self._redis = queues.connect(url)
        return self._redis

    def queue(self, name: str = queues.DEFAULT_QUEUE):
        if name not in self._queues:
            self._queues[name] = queues.make_queue(self.redis, name)
        return self._queues[name]

    @contextmanager
    def transaction(self):
        """A database transaction; jobs added with queue.after_commit run after it."""
        with db.transaction(self.config.database_url, self.config.db_lock_timeout) as session:
            session.info["runtime"] = self
            yield session

    def session(self):
        """A plain session for reads; the caller closes it."""
        session = db.session_factory(self.config.database_url, self.config.db_lock_timeout)()
        session.info["runtime"] = self
        return session


_process_runtime = None


def current() -> Runtime:
    """The runtime of a worker process, built from the environment on first use."""
    global _process_runtime
    if _process_runtime is None:
        _process_runtime = Runtime(Config())
    return _process_runtime


def install(runtime: Runtime):
    """Make `current()` return this runtime (tests and the web app)."""
    global _process_runtime
    _process_runtime = runtime
