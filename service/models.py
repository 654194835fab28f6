"""Tables, in three groups that never point at each other across the line.

Dispatch side (A1): organisations, campaigns, invitations, conversations,
outbox. It knows who was asked, never what they answered once they finish.

Answer side (A2): the pool, releases, responses and answers. Campaign, unit,
group, language, mode and values; a random id; no time finer than the day, no
sequence, no key towards dispatch; on SQLite WITHOUT ROWID, so no storage order.
"""
import secrets
from datetime import date
from datetime import datetime
from datetime import timezone

from sqlalchemy import DDL
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on SQLite as well as PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def random_id() -> str:
    """Ids on the answer side carry no order: 128 random bits."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    pass


# --- organisation and people -------------------------------------------------


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    default_language: Mapped[str] = mapped_column(String(16), default="nb")
    # Region for reading phone numbers typed without a country code.
    region: Mapped[str] = mapped_column(String(2), default="NO")


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Service area -> institution: a unit's parent is in the same organisation, never itself below.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)


class RespondentGroup(Base):
    __tablename__ = "respondent_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin")  # admin | coordinator
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The admin view's language (nb, da, en); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(16))
    organisation: Mapped[Organisation] = relationship()


class LoginSession(Base):
    """One login to the admin view: the cookie holds only a random key whose digest is here."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute (see service/accounts/login_sessions.py), not on every page.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by logout, expiry, a password change, deactivation or "log out everywhere".
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserUnit(Base):
    """A coordinator's units: the only ones whose progress and results they may read."""

    __tablename__ = "user_units"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)


class AuditEvent(Base):
    """Who did what to which object, and who was refused: launches, exports, user changes, failed logins."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # None for events without a known user (a failed login for an unknown e-mail).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The e-mail as typed or as the user had it then; kept when a user is renamed.
    actor: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship()


# --- surveys and campaigns ---------------------------------------------------


class SurveyVersion(Base):
    """The exact survey file a campaign runs, kept even when the file changes."""

    __tablename__ = "survey_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("key", "version"),)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    name: Mapped[str] = mapped_column(String(200))
    # draft -> scheduled (launched, opening later) -> open -> closed
    status: Mapped[str] = mapped_column(String(16), default="draft")
    default_language: Mapped[str] = mapped_column(String(16), default="nb")
    # Languages respondents may answer in (a subset of the survey's); channels
    # respondents are reached by: sms, telegram, paper.
    languages: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=lambda: ["sms"])
    # What closing does with answers left unfinished: discard | keep (as incomplete, anonymously).
    incomplete_policy: Mapped[str] = mapped_column(String(16), default="discard")
    # Fewer invited than this in a unit and group switches off background
    # questions and comments; None means the deployment's SVAR_SMALL_GROUP.
    small_group: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the dispatch tables were rewritten after close, so the deleted rows left the files (service/dispatch/page_scrub.py).
    pages_scrubbed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_version: Mapped[SurveyVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary="campaign_units")
    groups: Mapped[list[RespondentGroup]] = relationship(secondary="campaign_groups")


class CampaignUnit(Base):
    __tablename__ = "campaign_units"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class CampaignGroup(Base):
    __tablename__ = "campaign_groups"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("respondent_groups.id"), primary_key=True)


# --- dispatch side -----------------------------------------------------------


# Invitation statuses in which the respondent may still answer, and so may still be written to.
OPEN_INVITATION = ("created", "invited", "delivered", "started")


class Invitation(Base):
    """One respondent's one-time code, bound to a campaign, unit and group."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("respondent_groups.id"))
    channel: Mapped[str] = mapped_column(String(16))  # sms | telegram | paper
    language: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The code encrypted (Vault.encrypt_codes) for the messages that carry it, set in only at send
    # time (service/outbox/code_slots.py); erased at completion, opt-out and close. Paper codes have none.
    code_enc: Mapped[str | None] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # created -> invited -> delivered -> started -> completed; or opted_out / failed
    status: Mapped[str] = mapped_column(String(16), default="created")
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reminder sweeper next looks at this invitation; None when nothing is left to send.
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Reminders sent when the respondent completed (0: after the invitation alone), for progress.
    completed_after: Mapped[int | None] = mapped_column(Integer)
    campaign: Mapped[Campaign] = relationship()
    __table_args__ = (
        Index("ix_invitations_campaign_status", "campaign_id", "status"),
        UniqueConstraint("campaign_id", "address_hash"),
    )


class Conversation(Base):
    """Answers in progress, encrypted; deleted when the respondent completes (A3)."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[str] = mapped_column(Text)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), unique=True)
    state_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invitation: Mapped[Invitation] = relationship()
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)


class InboundReceipt(Base):
    """Provider message ids already applied, so a retried webhook runs once."""

    __tablename__ = "inbound_receipts"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(Base):
    """A message to send; the row is the truth, the queue only a hint."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_enc: Mapped[str | None] = mapped_column(Text)
    # Erased once the provider has accepted the message.
    body: Mapped[str | None] = mapped_column(Text)
    # Buttons a chat channel may show: [{"reply": "1", "label": "..."}].
    options: Mapped[list | None] = mapped_column(JSON)
    # The question those options answer: chat buttons name it, so a stale press is recognised.
    question_id: Mapped[str | None] = mapped_column(String(64))
    # invitation | reply | reminder; "ack" answers a Telegram button press (body: the callback query id)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"), index=True)
    # pending -> sending -> sent -> delivered; or failed / undelivered
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Sweeps that found it claimed past the sending grace with no answer recorded: lookups at the provider
    # (capped, workers/unsure_sends.py), or sends again where there is no lookup (a possible duplicate).
    unsure_sweeps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Held until then: quiet hours, or the provider's queue is full (see workers/send.py).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_outbox_status_updated", "status", "updated_at"),)


class ReminderPolicy(Base):
    """When a campaign's reminders go out; a campaign without a row uses the defaults."""

    __tablename__ = "reminder_policies"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    # Days after the invitation went out, ascending: [3, 7, 10].
    offsets_days: Mapped[list] = mapped_column(JSON)
    # Days before closing for the last-chance reminder; None for none.
    last_chance_days: Mapped[int | None] = mapped_column(Integer)
    # Hours of silence after which a respondent who started is nudged once; None for never.
    nudge_after_hours: Mapped[int | None] = mapped_column(Integer)
    # The sending window in local time, "HH:MM", and its ISO weekdays (1 Monday .. 7 Sunday).
    window_start: Mapped[str] = mapped_column(String(5))
    window_end: Mapped[str] = mapped_column(String(5))
    weekdays: Mapped[list] = mapped_column(JSON)
    # None follows the organisation's time zone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The stalled-conversation nudge's reminder number: it goes only to someone who started, so it says they did.
NUDGE_NUMBER = 0


class ReminderSend(Base):
    """One reminder written for one invitation; the unique key makes a second one impossible."""

    __tablename__ = "reminder_sends"
    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    # 1, 2, ... in the order of the policy; the stalled-conversation nudge is 0.
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # reminder | last_chance | nudge
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        UniqueConstraint("invitation_id", "number"),
        # The nudges alone, for the sweeper that forgets them once their conversation ended (service/dispatch/traces.py).
        Index("ix_reminder_sends_nudges", "invitation_id", postgresql_where=text("number = 0"), sqlite_where=text("number = 0")),
    )


class OptOut(Base):
    """A keyed hash of an address that said STOP; holds across campaigns (A5)."""

    __tablename__ = "opt_outs"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)


# --- answer side -------------------------------------------------------------


# Rows kept in primary-key (random id) order on SQLite: no rowid tells who came first.
NO_ROWID = {"sqlite_with_rowid": False}
# The channel an answer set was actually given on (A2).
MODES = ("sms", "whatsapp", "telegram", "interview", "paper")


class PooledAnswerSet(Base):
    """A completed answer set waiting, encrypted, for its campaign's next release (A3)."""

    __tablename__ = "answer_pool"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    campaign_id: Mapped[int] = mapped_column(Integer, index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16), default="sms")
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    answers_enc: Mapped[str] = mapped_column(Text)
    __table_args__ = (NO_ROWID,)


class Response(Base):
    """One anonymous answer set. Deliberately no timestamp and no sequence."""

    __tablename__ = "responses"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    # Plain integers, not foreign keys: the answer side stands alone.
    campaign_id: Mapped[int] = mapped_column(Integer, index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16), default="sms")
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (NO_ROWID,)


class Answer(Base):
    __tablename__ = "answers"
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The value as JSON (int, float, choice id, list of ids, text or "dont_know").
    value: Mapped[object] = mapped_column(JSON)
    # Numeric answers also here, so means are computed in SQL.
    number: Mapped[float | None] = mapped_column()
    __table_args__ = (NO_ROWID,)


class ResponseCount(Base):
    """How many responses a campaign has, kept by its releases: the results cache's key without a count(*)."""

    __tablename__ = "response_counts"
    # A plain integer, as on responses: the answer side stands alone.
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    responses: Mapped[int] = mapped_column(Integer, default=0)


class Release(Base):
    """One release of a campaign's pool to the answer side (A3): the only moments results change."""

    __tablename__ = "releases"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The day only: a finer time would date the answer sets it wrote.
    released_on: Mapped[date] = mapped_column(Date)
    sets: Mapped[int] = mapped_column(Integer)
    # "close" or "interim"
    kind: Mapped[str] = mapped_column(String(16))
    # Blocks hidden from this release on, as [node, column] pairs: they gained 1 to k-1 answers in it, or protect such a gain.
    held: Mapped[list | None] = mapped_column(JSON(none_as_null=True))


class ReleaseRequest(Base):
    """An administrator's standing request for an interim release; it goes when every changed group gains >= k."""

    __tablename__ = "release_requests"
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    requested_on: Mapped[date] = mapped_column(Date)


# --- what ANALYZE may not sample ----------------------------------------------

# PostgreSQL's ANALYZE copies sample values of each column into pg_statistic,
# where erasing or deleting the row does not reach them (A4, A5): columns that
# hold ciphertexts or message bodies get no statistics. Nothing plans on them.
UNSAMPLED = {
    "invitations": ("address_enc", "code_enc"),
    "conversations": ("address_enc", "state_enc"),
    "outbox": ("address_enc", "body"),
    "answer_pool": ("answers_enc",),
}


def unsampled_ddl(table: str) -> str:
    """ALTER TABLE that switches off statistics for `table`'s secret columns (also used by migration 0006c)."""
    return f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {column} SET STATISTICS 0" for column in UNSAMPLED[table])


for _table, _columns in UNSAMPLED.items():
    event.listen(Base.metadata.tables[_table], "after_create", DDL(unsampled_ddl(_table)).execute_if(dialect="postgresql"))
