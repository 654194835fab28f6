"""A launched campaign with SMS respondents, and helpers that run the jobs on a controllable clock."""
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from service.dispatch import campaigns
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderPolicy
from service.models import ReminderSend
from service.infra.queue import SEND_QUEUE
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.outbox_rows import ALWAYS_OPEN

# Monday 5 October 2026, 12:00 in Oslo; the campaign closes 2 November.
LAUNCH = NOW
DAY = timedelta(days=1)


def phone(n: int) -> str:
    return f"+4791{n:06d}"


def launched(runtime, count=3, at=LAUNCH, language="nb", always_open=False) -> tuple[int, list[int]]:
    """A campaign launched at `at`, closing four weeks later, with `count` SMS respondents; (campaign id, invitation ids)."""
    with runtime.transaction() as session:
        campaign = open_campaign(session, status="draft")
        campaign.opens_at, campaign.closes_at = at - DAY, at + 28 * DAY
        if always_open:
            # For jobs that read the real clock: no quiet hours to wait for.
            session.add(ReminderPolicy(campaign_id=campaign.id, **ALWAYS_OPEN))
        ids = [invite(session, runtime, campaign, phone=phone(n), language=language, status="created")[0].id for n in range(count)]
        campaigns.launch(session, runtime, campaign, at)
        return campaign.id, ids


def drain(runtime, now) -> dict:
    """Run every queued send job now, as a worker would; returns the summed outcomes."""
    totals: dict = {}
    queue = runtime.queue(SEND_QUEUE)
    while queue.count:
        job = queue.jobs[0]
        queue.remove(job)
        # Send jobs and the replies' drain job alike.
        for outcome, count in job.func(*job.args, now=now).items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def rows(runtime, kind="reminder") -> list[OutboxMessage]:
    with runtime.session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)).all()


def sends(runtime) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(ReminderSend))


def invitation(runtime, invitation_id) -> Invitation:
    with runtime.session() as session:
        return session.get(Invitation, invitation_id)


def campaign(runtime, campaign_id) -> Campaign:
    with runtime.session() as session:
        return session.get(Campaign, campaign_id)
