"""Periodic jobs, started with `rq cron workers/cron.py`; one scheduler per deployment."""
from rq import cron

from service.config import Config
from service.infra.queue import DEFAULT_QUEUE
from workers.progress_snapshots import refresh_viewed_progress
from workers.reminders import sweep_reminders
from workers.schedule import close_due_campaigns
from workers.schedule import open_due_campaigns
from workers.schedule import purge_conversation_traces
from workers.schedule import purge_receipts
from workers.schedule import release_due_pools
from workers.schedule import sweep_outbox

# From the environment (SVAR_SWEEP_INTERVAL), as the jobs' own runtime is; read here without building one.
cron.register(sweep_outbox, DEFAULT_QUEUE, interval=Config().sweep_interval)
cron.register(open_due_campaigns, DEFAULT_QUEUE, interval=60)
cron.register(close_due_campaigns, DEFAULT_QUEUE, interval=60)
cron.register(release_due_pools, DEFAULT_QUEUE, interval=60)
cron.register(sweep_reminders, DEFAULT_QUEUE, interval=60)
cron.register(purge_conversation_traces, DEFAULT_QUEUE, interval=60)
cron.register(purge_receipts, DEFAULT_QUEUE, interval=3600)
# Progress pages of large campaigns read snapshots at most this old (service/progress/snapshot.py).
cron.register(refresh_viewed_progress, DEFAULT_QUEUE, interval=30)
