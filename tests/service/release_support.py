"""Tests' way to an interim release: the administrator's request, then the release job, as in production."""
from service.infra import runtime as runtimes
from service.models import ReleaseRequest
from service.models import utcnow
from workers.store import release_pool


def interim_release(campaign_id: int) -> int:
    """Ask for an interim release of the campaign and run the release job; how many sets went."""
    runtime = runtimes.current()
    with runtime.transaction() as session:
        if session.get(ReleaseRequest, campaign_id) is None:
            session.add(ReleaseRequest(campaign_id=campaign_id, requested_on=utcnow().date()))
    return release_pool(campaign_id)
