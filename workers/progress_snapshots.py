"""Jobs that keep progress snapshots of large open campaigns fresh (see service/progress/snapshot.py)."""
import logging

from sqlalchemy import select

from service.progress import snapshot as progress_snapshot
from service.infra import runtime as runtimes
from service.models import Campaign

log = logging.getLogger(__name__)

# Campaigns whose figures still move; a closed one is counted again when it closes.
MOVING = ("scheduled", "open")


def refresh_progress(campaign_id: int) -> bool:
    """Job: take and store a new progress snapshot of one campaign; False if it is gone."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            return False
        progress_snapshot.refresh(session, runtime, campaign)
    return True


def refresh_viewed_progress() -> int:
    """Cron: a new snapshot of each large open campaign someone looked at lately; returns how many."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        ids = session.scalars(select(Campaign.id).where(Campaign.status.in_(MOVING)).order_by(Campaign.id)).all()
    refreshed = 0
    for campaign_id in ids:
        if progress_snapshot.worth_refreshing(runtime, campaign_id):
            refresh_progress(campaign_id)
            refreshed += 1
    return refreshed
