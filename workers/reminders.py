"""The reminder sweep, run by rq cron every minute: due invitations -> outbox rows, in batches.

Each batch claims due invitations (FOR UPDATE SKIP LOCKED on PostgreSQL, so
sweeps on several workers never share a row; SQLite runs one writer at a
time), records each reminder under a unique (invitation, number), writes
its outbox row and advances the schedule in ONE transaction. Send jobs are
enqueued after the commit; if Redis loses them, the outbox sweeper finds
the rows. A sweep killed mid-batch rolls back and the next one redoes it.
"""
import itertools
import logging
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import joinedload

from service.infra import runtime as runtimes
from service.models import NUDGE_NUMBER
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OptOut
from service.models import ReminderPolicy
from service.models import ReminderSend
from service.models import utcnow
from service.reminders.quiet_hours import is_open
from service.reminders.plan import NUDGE
from service.reminders.plan import due_step
from service.reminders.plan import next_due
from service.reminders.policy import REMINDABLE
from service.reminders.writes import reschedule
from service.reminders.writes import write_reminders
from service.reminders.sending import CampaignContext
from service.reminders.sending import claim_numbers
from service.reminders.sending import conversation_of
from service.reminders.sending import link_outbox
from service.reminders.sending import opted_out
from service.reminders.sending import reminder_row
from service.reminders.sending import write_reminder

log = logging.getLogger(__name__)

BATCH = 500
# 200 batches of 500 cover a 100,000-respondent wave in one sweep.
MAX_BATCHES = 200
# Someone who answered within the hour is still at it: a reminder would interrupt.
ACTIVE_GRACE = timedelta(hours=1)
# A conversation locked by the runner right now is looked at again this much later.
BUSY_RETRY = timedelta(minutes=1)
# Batches written at once on PostgreSQL, each on its own connection: most of a
# batch's time is the server's (index and foreign-key upkeep, WAL), which runs
# on one core per connection, while this process works out the next batch.
# SQLite has one writer at a time: one.
SWEEPERS = 2


def sweep_reminders(now: datetime | None = None) -> int:
    """Write every due reminder and the stalled-conversation nudges; returns how many were written."""
    runtime = runtimes.current()
    now = now or utcnow()
    taken = itertools.count()
    sweepers = 1 if make_url(runtime.config.database_url).get_backend_name() == "sqlite" else SWEEPERS
    if sweepers == 1:
        written = _batches(runtime, now, taken)
    else:
        with ThreadPoolExecutor(max_workers=sweepers) as pool:
            # Each claims its own rows (SKIP LOCKED), as sweeps on several workers do.
            running = [pool.submit(_batches, runtime, now, taken) for _ in range(sweepers)]
            written = sum(sweeper.result() for sweeper in running)
    with runtime.transaction() as session:
        written += _nudge_batch(session, runtime, now)
    if written:
        log.info("reminder sweep wrote %d reminders", written)
    return written


def _batches(runtime, now, taken) -> int:
    """Batches until none is full or MAX_BATCHES (shared through `taken`) are done; returns reminders written."""
    written = 0
    while next(taken) < MAX_BATCHES:
        with runtime.transaction() as session:
            claimed, count = _reminder_batch(session, runtime, now)
        written += count
        if claimed < BATCH:
            break
    return written


def _skip_locked(statement, session, *of):
    if session.bind.dialect.name == "sqlite":
        return statement
    return statement.with_for_update(skip_locked=True, of=of or None)


# What a sweep reads of a due invitation: plain rows, no ORM objects to build and flush.
DUE_COLUMNS = (
    Invitation.id,
    Invitation.campaign_id,
    Invitation.status,
    Invitation.language,
    Invitation.address_enc,
    Invitation.address_hash,
    Invitation.invited_at,
    Invitation.reminder_count,
    # Whether the reminder can repeat the code (never the code itself: the send sets it in).
    Invitation.code_enc.is_not(None).label("has_code"),
)
# The address said STOP to the organisation, in this campaign or another.
STOPPED = (
    exists()
    .where(Campaign.id == Invitation.campaign_id, OptOut.organisation_id == Campaign.organisation_id)
    .where(OptOut.address_hash == Invitation.address_hash)
    .label("stopped")
)
# A conversation in progress: its reminder goes through the runner.
TALKING = exists().where(Conversation.invitation_id == Invitation.id).label("talking")
# A due row as the batch reads it: a plain tuple's attributes cost a tenth of a Row's.
Due = namedtuple("Due", [column.key for column in DUE_COLUMNS] + ["stopped", "talking"])


def _reminder_batch(session, runtime, now) -> tuple[int, int]:
    """(invitations claimed, reminders written) for one batch, in a fixed number of statements.

    One query claims the batch with its opt-outs and conversations; the
    reminder records with their outbox rows, and the new schedules, take one
    statement each (service/reminders/writes.py). Only reminders mid-survey go
    one by one, through the runner.
    """
    # By due time alone: the index gives the rows in order, and LIMIT stops
    # the scan at BATCH (a tie-break column would sort every due row first).
    due = _skip_locked(
        select(*DUE_COLUMNS, STOPPED, TALKING)
        .where(Invitation.next_reminder_at <= now)
        .order_by(Invitation.next_reminder_at)
        .limit(BATCH),
        session,
        Invitation,
    )
    invitations = [Due(*row) for row in session.connection().execute(due)]
    if not invitations:
        return 0, 0
    campaigns = {
        campaign_id: _CampaignNow.load(session, campaign_id, now)
        for campaign_id in {invitation.campaign_id for invitation in invitations}
    }
    plain, rows, talking = [], [], []
    schedules = []
    for invitation in invitations:
        campaign = campaigns[invitation.campaign_id]
        if invitation.stopped:
            upcoming, reminder = None, None
        else:
            upcoming, reminder = _visit(session, campaign, invitation, now)
        count = invitation.reminder_count
        if reminder is not None:
            step, conversation = reminder
            count = step.number
            if conversation is None:
                plain.append((invitation.id, step.number, step.kind))
                rows.append(reminder_row(campaign.context, invitation, step.kind, now))
            else:
                talking.append((invitation, step, conversation))
        # Never leave a claimed row due: the loop above would take it again.
        later = max(upcoming, now + BUSY_RETRY) if upcoming is not None else None
        schedules.append({"invitation": invitation.id, "later": later, "count": count})
    written = len(write_reminders(session, plain, rows, now))
    reschedule(session, schedules)
    # A reminder recorded before (a sweep whose schedule update was lost) is not returned: never twice.
    fresh = claim_numbers(session, [(invitation.id, step.number, step.kind) for invitation, step, _c in talking], now)
    for invitation, step, conversation in talking:
        if invitation.id in fresh:
            write_reminder(session, runtime, campaigns[invitation.campaign_id].context, invitation, conversation, step.kind, now)
            link_outbox(session, invitation.id, step.number)
    return len(invitations), written + len(fresh)


_CAMPAIGN_WITH = (joinedload(Campaign.organisation), joinedload(Campaign.survey_version))


@dataclass
class _CampaignNow:
    """A campaign as one batch sees it: what holds for all its invitations is worked out once."""

    context: CampaignContext
    # Open and not past its closing time: it still reminds.
    live: bool
    # The sending window is shut: when it opens next; None while it is open.
    held_until: datetime | None

    @classmethod
    def load(cls, session, campaign_id: int, now: datetime) -> "_CampaignNow":
        # The organisation (time zone, name) and survey version (title) come in the same query.
        campaign = session.get(Campaign, campaign_id, options=_CAMPAIGN_WITH)
        context = CampaignContext.load(session, campaign)
        campaign = context.campaign
        live = campaign.status == "open" and (campaign.closes_at is None or now < campaign.closes_at)
        held_until = None if is_open(now, context.policy.window, context.tz) else context.next_allowed(now)
        return cls(context, live, held_until)


def _visit(session, campaign: _CampaignNow, invitation, now) -> tuple[datetime | None, tuple | None]:
    """When to look at the invitation again, and the (step, conversation) to remind it of now, if any."""
    if not campaign.live or invitation.status not in REMINDABLE or not invitation.address_enc:
        return None, None
    if campaign.held_until is not None:
        return campaign.held_until, None
    steps = campaign.context.plan(invitation, now)
    step = due_step(steps, invitation.reminder_count, now)
    if step is None:
        return next_due(steps, invitation.reminder_count), None
    conversation, busy = conversation_of(session, invitation) if invitation.talking else (None, False)
    if busy:
        return now + BUSY_RETRY, None
    if conversation is not None and conversation.updated_at > now - ACTIVE_GRACE:
        return conversation.updated_at + ACTIVE_GRACE, None
    return next_due(steps, step.number), (step, conversation)


def _nudge_batch(session, runtime, now) -> int:
    """Nudge, once, respondents who started and then went quiet for the policy's nudge_after_hours."""
    nudged = exists().where(ReminderSend.invitation_id == Invitation.id, ReminderSend.number == NUDGE_NUMBER)
    stalled = _skip_locked(
        select(Conversation)
        .join(Invitation, Conversation.invitation_id == Invitation.id)
        .join(Campaign, Invitation.campaign_id == Campaign.id)
        .outerjoin(ReminderPolicy, ReminderPolicy.campaign_id == Campaign.id)
        .where(
            Campaign.status == "open",
            Invitation.status == "started",
            Conversation.updated_at <= now - ACTIVE_GRACE,
            # No policy row means the defaults, which nudge.
            or_(ReminderPolicy.campaign_id.is_(None), ReminderPolicy.nudge_after_hours.is_not(None)),
            ~nudged,
        )
        .order_by(Conversation.updated_at)
        .limit(BATCH),
        session,
        Conversation,
    )
    contexts: dict[int, CampaignContext] = {}
    written = 0
    for conversation in session.scalars(stalled).all():
        invitation = conversation.invitation
        if invitation.campaign_id not in contexts:
            contexts[invitation.campaign_id] = CampaignContext.load(session, invitation.campaign)
        context = contexts[invitation.campaign_id]
        hours = context.policy.nudge_after_hours
        if hours is None or conversation.updated_at > now - timedelta(hours=hours):
            continue
        closes = context.campaign.closes_at
        if (closes is not None and now >= closes) or not is_open(now, context.policy.window, context.tz):
            continue
        if opted_out(session, context.campaign, invitation) or _reminder_soon(context, invitation, now):
            continue
        if not claim_numbers(session, [(invitation.id, NUDGE_NUMBER, NUDGE)], now):
            continue
        write_reminder(session, runtime, context, invitation, conversation, NUDGE, now)
        link_outbox(session, invitation.id, NUDGE_NUMBER)
        written += 1
    return written


def _reminder_soon(context, invitation, now) -> bool:
    """A scheduled reminder within a day says the same thing; the nudge waits for it."""
    upcoming = invitation.next_reminder_at
    return upcoming is not None and upcoming <= now + timedelta(days=1)

