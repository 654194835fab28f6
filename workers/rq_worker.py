"""RQ's worker with Svar's job code imported once, send jobs run in process: `rq worker -w workers.rq_worker.PreloadingWorker`.

A plain `rq worker` imports a job's module in each work horse it forks,
which for the send job (SQLAlchemy models, the Twilio SDK, PTB) costs about
a second of CPU per job. Imported here once, every fork
inherits the modules.

Send jobs (and the replies' drain job, which runs them) do not fork at all: a forked work horse cost ~28 ms of CPU per
job (fork, page faults, new database, Redis and HTTPS connections) against
~5 ms in process. They are short, take ids and
keep no state between jobs except warm connections. Every other job (pool
flushes, result warming, sweeps: long, and memory hungry) still runs in a
forked work horse, so a large one cannot bloat the worker; before such a
fork the worker closes its pooled database connections, so none is shared
with the horse.
"""
import logging

import twilio.rest.api  # noqa: F401  (the Messages resource: the SDK imports it on first use, 0.1 s)
from rq.defaults import DEFAULT_MAINTENANCE_TASK_INTERVAL
from rq.worker import SimpleWorker
from rq.worker import Worker
from rq.worker import WorkerStatus

import service.channels.telegram  # noqa: F401
import service.channels.twilio  # noqa: F401
import workers.progress_snapshots  # noqa: F401
import workers.reminders  # noqa: F401
import workers.replies  # noqa: F401
import workers.schedule  # noqa: F401
import workers.send  # noqa: F401
import workers.store  # noqa: F401
from service.infra import db
from service.infra import runtime as runtimes
from workers.send import warm_up

log = logging.getLogger(__name__)


# Seconds between a worker's maintenance runs (RQ's default is ten minutes). Each run
# also takes the scheduler's lock if no live scheduler holds it: when the worker that
# ran the scheduler is killed, its lock lapses after about a minute, and until another
# worker takes it, scheduled jobs (RQ's retries, Telegram's Retry-After) do not run
# and the outbox sweeper leaves their rows alone. Found by the soak at 80 respondents.
MAINTENANCE_SECONDS = 15
# Jobs run in the worker process itself (see the module's docstring).
IN_PROCESS = frozenset({"workers.send.send_outbox", "workers.replies.drain_replies"})


class PreloadingWorker(Worker):
    """The forking Worker, started warm; send jobs run in process."""

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

    def execute_job(self, job, queue):
        if job.func_name in IN_PROCESS:
            # As SimpleWorker does: RQ's timeout (SIGALRM) and failure handling apply as in a horse.
            execution = self.prepare_execution(job)
            self.perform_job(job, queue, execution)
            self.set_state(WorkerStatus.IDLE)
            return
        # The horse opens its own connections; sharing a pooled one with it would corrupt both sides.
        config = runtimes.current().config
        db.engine_for(config.database_url, config.db_lock_timeout).dispose()
        super().execute_job(job, queue)

    def main_work_horse(self, job, queue):
        # The HTTPS connections kept by the channels belong to the worker process.
        runtimes.current().__dict__.pop("_channels", None)
        super().main_work_horse(job, queue)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.func_name in IN_PROCESS:
            # Nobody refreshes the heartbeat while the worker itself runs the job.
            return SimpleWorker.get_heartbeat_ttl(self, job, working_time)
        return super().get_heartbeat_ttl(job, working_time)
