"""RQ's forking worker with Svar's job code imported before the fork: `rq worker -w workers.rq_worker.PreloadingWorker`.

A plain `rq worker` imports a job's module in each work horse it forks,
which for the send job (SQLAlchemy models, the Twilio SDK, PTB) costs about
a second of CPU per job; a reply is one job. Imported here once, every fork
inherits the modules. Nothing connects at import time, so no connection is
shared across the fork.
"""
from rq.worker import Worker

import service.channels.telegram  # noqa: F401
import service.channels.twilio  # noqa: F401
import workers.reminders  # noqa: F401
import workers.schedule  # noqa: F401
import workers.send  # noqa: F401
import workers.store  # noqa: F401


class PreloadingWorker(Worker):
    """The forking Worker, started warm."""
