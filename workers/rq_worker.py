"""RQ's forking worker with Svar's job code imported before the fork: `rq worker -w workers.rq_worker.PreloadingWorker`.

A plain `rq worker` imports a job's module in each work horse it forks,
which for the send job (SQLAlchemy models, the Twilio SDK, PTB) costs about
a second of CPU per job; a reply is one job. Imported here once, every fork
inherits the modules. Nothing connects at import time; the send job's
statements are compiled once before the first fork (workers.send.warm_up)
and that connection is closed, so no connection is shared across the fork.
"""
import logging

import twilio.rest.api  # noqa: F401  (the Messages resource: the SDK imports it on first use, 0.1 s)
from rq.defaults import DEFAULT_MAINTENANCE_TASK_INTERVAL
from rq.worker import Worker

import service.channels.telegram  # noqa: F401
import service.channels.twilio  # noqa: F401
import workers.progress_snapshots  # noqa: F401
import workers.reminders  # noqa: F401
import workers.schedule  # noqa: F401
import workers.send  # noqa: F401
import workers.store  # noqa: F401
from service import runtime as runtimes
from workers.send import warm_up

log = logging.getLogger(__name__)


# Seconds between a worker's maintenance runs (RQ's default is ten minutes). Each run
# also takes the scheduler's lock if no live scheduler holds it: when the worker that
# ran the scheduler is killed, its lock lapses after about a minute, and until another
# worker takes it, scheduled jobs (RQ's retries, Telegram's Retry-After) do not run
# and the outbox sweeper leaves their rows alone. Found by the soak at 80 respondents.
MAINTENANCE_SECONDS = 15


class PreloadingWorker(Worker):
    """The forking Worker, started warm."""

    def __init__(self, *args, **kwargs):
        # `rq worker` always passes its default; another value given on the command line stays.
        if kwargs.get("maintenance_interval", DEFAULT_MAINTENANCE_TASK_INTERVAL) == DEFAULT_MAINTENANCE_TASK_INTERVAL:
            kwargs["maintenance_interval"] = MAINTENANCE_SECONDS
        super().__init__(*args, **kwargs)

    def work(self, *args, **kwargs):
        try:
            # The send job's statements, compiled once here instead of in every work horse.
            warm_up(runtimes.current())
        except Exception as exc:
            # A database not up yet costs speed, not sending: the horses compile for themselves.
            log.warning("send warm-up skipped: %s", type(exc).__name__)
        return super().work(*args, **kwargs)
