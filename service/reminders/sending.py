"""Reminders on the dispatch side: first due times at invitation, writing one reminder, attribution."""
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from flows.engine import resume
from flows.model import Inbound
from flows.model import InboundKind
from flows.model import State
from flows.reminders import nudge_footer
from flows.reminders import reminder_text
from flows.reminders import with_footer

from ..infra.bulk_sql import chunks
from ..outbox.code_slots import CODE_SLOT
from ..models import Campaign
from ..models import Conversation
from ..models import Invitation
from ..models import OptOut
from ..models import OutboxMessage
from ..models import ReminderSend
from .quiet_hours import next_allowed
from .quiet_hours import zone
from .plan import Step
from .plan import deadline_day
from .plan import next_due
from .plan import plan
from .policy import Policy
from .policy import policy_of
from ..conversation.apply import apply_sprint
from ..outbox.send_jobs import enqueue_send
from ..surveys import survey_of
from ..surveys import survey_title


@dataclass
class CampaignContext:
    """What every reminder of one campaign needs, loaded once per sweep."""

    campaign: Campaign
    policy: Policy
    tz: ZoneInfo
    deadline: date | None
    # A wave of invitations shares its invitation time and a few languages:
    # plans and texts are worked out once per batch, not once per reminder.
    plans: dict = field(default_factory=dict, repr=False)
    texts: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, session, campaign: Campaign) -> "CampaignContext":
        policy = policy_of(session, campaign)
        tz = zone(policy.zone_name(campaign))
        deadline = deadline_day(campaign.closes_at, tz) if campaign.closes_at else None
        return cls(campaign, policy, tz, deadline)

    def plan(self, invitation: Invitation, now: datetime) -> list[Step]:
        key = (invitation.invited_at or now, self.campaign.closes_at)
        if key not in self.plans:
            self.plans[key] = plan(self.policy, self.tz, *key)
        return self.plans[key]

    def reminder_text(self, kind: str, language: str, with_code: bool = True) -> str:
        """The text of a reminder to someone who has not started, as stored: a slot for their code (A7)."""
        if (kind, language, with_code) not in self.texts:
            survey = survey_of(self.campaign.survey_version)
            self.texts[kind, language, with_code] = reminder_text(
                kind,
                language,
                organisation=self.campaign.organisation.name,
                title=survey_title(survey, language, self.campaign.default_language),
                deadline=self.deadline,
                code=CODE_SLOT if with_code else None,
            )
        return self.texts[kind, language, with_code]

    def next_allowed(self, moment: datetime) -> datetime:
        return next_allowed(moment, self.policy.window, self.tz)


def first_reminder(session, campaign: Campaign, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(when the first reminder of SMS invitations issued at `now` is due, when those invitations may go out).

    The second is None for at once, else the time the sending window next
    opens (a launch at 22:00 sends at 09:00 the next allowed day).
    """
    context = CampaignContext.load(session, campaign)
    first = next_due(plan(context.policy, context.tz, now, campaign.closes_at), 0)
    opening = context.next_allowed(now)
    return first, (opening if opening > now else None)


def opted_out(session, campaign: Campaign, invitation: Invitation) -> bool:
    """The address said STOP, in this campaign or another of the organisation's."""
    if invitation.status == "opted_out":
        return True
    if not invitation.address_hash:
        return False
    return session.get(OptOut, (campaign.organisation_id, invitation.address_hash)) is not None


def claim_numbers(session, wanted: list[tuple[int, int, str]], now: datetime) -> set[int]:
    """Record reminders (invitation id, number, kind) in one statement; the invitation ids not written before."""
    if not wanted:
        return set()
    dialect = sqlite if session.bind.dialect.name == "sqlite" else postgresql
    sends = ReminderSend.__table__
    # One statement compiled once: SQLAlchemy batches the rows into multi-row
    # VALUES (insertmanyvalues); a .values([...]) list is compiled afresh each time.
    statement = dialect.insert(sends).on_conflict_do_nothing().returning(sends.c.invitation_id)
    rows = [{"invitation_id": i, "number": n, "kind": k, "created_at": now} for i, n, k in wanted]
    return set(session.connection().execute(statement, rows).scalars())


def write_reminder(session, runtime, context: CampaignContext, invitation: Invitation, conversation, kind: str, now: datetime):
    """A reminder mid-survey: the engine's "N questions left" and the question again, through the runner."""
    survey = survey_of(context.campaign.survey_version)
    state = State.from_dict(runtime.vault.decrypt_json(conversation.state_enc))
    sprint = resume(survey, state, Inbound(kind=InboundKind.REMINDER), now, max_attempts=runtime.config.max_attempts)
    sprint = with_footer(sprint, nudge_footer(kind, invitation.language, context.deadline))
    apply_sprint(session, runtime, conversation, sprint, now, kind="reminder")


def reminder_row(context: CampaignContext, invitation: Invitation, kind: str, now: datetime) -> dict:
    """The outbox row of a reminder to someone who has not started, for a bulk insert.

    `invitation` has DUE_COLUMNS (workers/reminders.py): has_code says whether
    its code is kept, for the send to set in; one issued before codes were kept
    gets the reminder without it.
    """
    return {
        # Telegram invitations too hold a phone number: a bot cannot write first.
        "channel": "sms",
        "address_enc": invitation.address_enc,
        "body": context.reminder_text(kind, invitation.language, with_code=invitation.has_code),
        "kind": "reminder",
        "campaign_id": invitation.campaign_id,
        "invitation_id": invitation.id,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def insert_reminder_rows(session, rows: list[dict]) -> list[int]:
    """Insert reminder outbox rows, point their reminder records at them, queue them after commit.

    Three statements for any number of rows: the outbox rows in one
    executemany, then one UPDATE that links each new reminder record to its
    invitation's newest reminder row and returns the outbox ids to queue.
    """
    if not rows:
        return []
    connection = session.connection()
    connection.execute(insert(OutboxMessage.__table__), rows)
    sends = ReminderSend.__table__
    outbox = OutboxMessage.__table__
    newest = (
        select(func.max(outbox.c.id))
        .where(outbox.c.invitation_id == sends.c.invitation_id, outbox.c.kind == "reminder")
        .scalar_subquery()
    )
    ids = []
    for part in chunks([row["invitation_id"] for row in rows]):
        # Each of these invitations has one unlinked record here: the one this sweep just wrote.
        linked = connection.execute(
            sends.update()
            .where(sends.c.invitation_id.in_(part), sends.c.outbox_id.is_(None))
            .values(outbox_id=newest)
            .returning(sends.c.outbox_id)
        )
        ids.extend(linked.scalars())
    ids.sort()
    enqueue_send(session, ids)
    return ids


def link_outbox(session, invitation_id: int, number: int):
    """Point a mid-survey reminder's record at the outbox row the runner wrote (for support, not for sending)."""
    latest = select(func.max(OutboxMessage.id)).where(
        OutboxMessage.invitation_id == invitation_id, OutboxMessage.kind == "reminder"
    )
    session.execute(
        update(ReminderSend)
        .where(ReminderSend.invitation_id == invitation_id, ReminderSend.number == number)
        .values(outbox_id=latest.scalar_subquery())
    )


def conversation_of(session, invitation: Invitation):
    """(conversation locked for us or None, busy): busy when another transaction holds it right now."""
    statement = select(Conversation).where(Conversation.invitation_id == invitation.id)
    if session.bind.dialect.name == "sqlite":
        # SQLite runs one writer at a time (BEGIN IMMEDIATE): nobody else holds it.
        return session.scalar(statement), False
    # Never wait: the runner locks the conversation, then the invitation; waiting here would deadlock.
    locked = session.scalar(statement.with_for_update(skip_locked=True))
    if locked is not None:
        return locked, False
    exists = session.scalar(select(Conversation.id).where(Conversation.invitation_id == invitation.id))
    return None, exists is not None

