"""Campaigns: create one, invite respondents or print codes, launch, close, follow progress.

Plain functions on a session and a runtime; the JSON API and the admin view
call them inside their transaction, and queued work runs after its commit.

Codes and SMS invitations: a code is only ever stored as its keyed hash
(A7), yet the invitation SMS must carry it in plain text. An invitation
added before launch gets the hash of a code that is thrown away at once
(code_hash is NOT NULL and unique); at launch every SMS invitation draws a
fresh code, its hash replaces the placeholder, and the plain code goes only
into the outbox body. Paper codes are different: they are returned once to
the caller for printing and never redrawn.
"""
import logging
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from workers.store import flush_pool

from .invitations import chunks
from .invitations import fresh_codes
from .invitations import send_invitations
from .models import Campaign
from .models import Conversation
from .models import Invitation
from .models import OptOut
from .models import Organisation
from .models import OutboxMessage
from .models import SurveyVersion
from .models import Unit
from .models import utcnow
from .phones import PhoneError
from .phones import mask
from .phones import normalise_phone
from .progress import progress  # noqa: F401  (part of this module's interface)
from .queue import after_commit
from .respondent_rows import RowError
from .respondent_rows import RowReader
from .surveys import survey_of

log = logging.getLogger(__name__)

MAX_PAPER_CODES = 1000


class CampaignError(ValueError):
    """A request the campaign cannot honour; the message says why, for the user."""


class CampaignStateError(CampaignError):
    """The campaign is in the wrong status for this (draft, open, closed)."""


def create_campaign(
    session,
    organisation: Organisation,
    survey_version: SurveyVersion,
    name: str,
    unit_ids: list[int],
    default_language: str,
    closes_at: datetime | None = None,
) -> Campaign:
    """A draft campaign of `survey_version` for some of the organisation's units."""
    name = (name or "").strip()
    if not name:
        raise CampaignError("name is required")
    if not unit_ids:
        raise CampaignError("at least one unit is required")
    wanted = set(unit_ids)
    units = session.scalars(
        select(Unit).where(Unit.organisation_id == organisation.id, Unit.id.in_(wanted)).order_by(Unit.id)
    ).all()
    if len(units) != len(wanted):
        raise CampaignError("unknown unit in unit_ids")
    survey = survey_of(survey_version)
    if default_language not in survey.languages:
        raise CampaignError(f"language {default_language!r} is not one of the survey's: {', '.join(survey.languages)}")
    if closes_at is not None and closes_at <= utcnow():
        raise CampaignError("closes_at is in the past")
    campaign = Campaign(
        organisation=organisation,
        survey_version=survey_version,
        name=name,
        units=list(units),
        default_language=default_language,
        closes_at=closes_at,
        status="draft",
    )
    session.add(campaign)
    session.flush()
    return campaign


@dataclass
class RespondentReport:
    """What became of uploaded rows; rows are 0-based indexes and phones are masked."""

    added: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    opted_out: list[dict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.errors or self.duplicates or self.opted_out)


def add_respondents(session, runtime, campaign: Campaign, rows: list[dict], now: datetime | None = None) -> RespondentReport:
    """Invite respondents by SMS: {phone, language?, unit_id? or unit (name or id), group_id?} per row.

    Good rows are kept even when others are bad. In an open campaign the new
    invitations are sent at once; in a draft they wait for launch.
    """
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is closed")
    report = RespondentReport()
    vault = runtime.vault
    read = RowReader(session, campaign)
    accepted = {}  # address hash -> (index, e164, language, unit_id, group_id)
    for index, row in enumerate(rows):
        phone = row.get("phone") if isinstance(row, dict) else None
        try:
            if not isinstance(row, dict):
                raise RowError("row must be an object")
            e164 = normalise_phone(phone, campaign.organisation.region)
            fields = read(row)
        except (PhoneError, RowError) as error:
            report.errors.append({"index": index, "reason": str(error), "phone": mask(phone)})
            continue
        digest = vault.address_hash("sms", e164)
        if digest in accepted:
            report.duplicates.append({"index": index, "phone": mask(e164)})
            continue
        accepted[digest] = (index, e164, *fields)
    known, opted = set(), set()
    for part in chunks(list(accepted)):
        known.update(
            session.scalars(
                select(Invitation.address_hash).where(Invitation.campaign_id == campaign.id, Invitation.address_hash.in_(part))
            )
        )
        # One query per chunk rather than optouts.is_opted_out per row: uploads run to thousands.
        opted.update(
            session.scalars(
                select(OptOut.address_hash).where(
                    OptOut.organisation_id == campaign.organisation_id, OptOut.address_hash.in_(part)
                )
            )
        )
    new = []
    for digest, (index, e164, language, unit_id, group_id) in accepted.items():
        if digest in known:
            report.duplicates.append({"index": index, "phone": mask(e164)})
        elif digest in opted:
            report.opted_out.append({"index": index, "phone": mask(e164)})
        else:
            new.append((digest, e164, language, unit_id, group_id))
    invitations = [
        Invitation(
            campaign_id=campaign.id,
            unit_id=unit_id,
            group_id=group_id,
            channel="sms",
            language=language,
            # A placeholder: the real code is drawn at launch (see the module docstring).
            code_hash=code_digest,
            address_enc=vault.encrypt(e164),
            address_hash=digest,
            status="created",
        )
        for (digest, e164, language, unit_id, group_id), (_code, code_digest) in zip(
            new, fresh_codes(session, vault, len(new))
        )
    ]
    session.add_all(invitations)
    session.flush()
    if campaign.status == "open" and invitations:
        send_invitations(session, runtime, campaign, invitations, now or utcnow())
    report.added = len(invitations)
    for entries in (report.duplicates, report.opted_out):
        entries.sort(key=lambda entry: entry["index"])
    log.info(
        "campaign %s: %d respondents added, %d rejected, %d duplicates, %d opted out",
        campaign.id, report.added, len(report.errors), len(report.duplicates), len(report.opted_out),
    )
    return report


def generate_paper_codes(
    session, runtime, campaign: Campaign, unit_id: int, group_id: int | None, count: int, language: str | None = None
) -> list[str]:
    """`count` printable codes for a unit (and group); shown once, only their hashes kept."""
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is closed")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PAPER_CODES:
        raise CampaignError(f"count must be between 1 and {MAX_PAPER_CODES}")
    try:
        language, unit_id, group_id = RowReader(session, campaign)(
            {"unit_id": unit_id, "group_id": group_id, "language": language}
        )
    except RowError as error:
        raise CampaignError(str(error)) from None
    # Paper codes handed out while the campaign is open count as invited at once.
    opened = campaign.status == "open"
    now = utcnow()
    pairs = fresh_codes(session, runtime.vault, count)
    session.add_all(
        Invitation(
            campaign_id=campaign.id,
            unit_id=unit_id,
            group_id=group_id,
            channel="paper",
            language=language,
            code_hash=digest,
            status="invited" if opened else "created",
            invited_at=now if opened else None,
        )
        for _code, digest in pairs
    )
    session.flush()
    log.info("campaign %s: %d paper codes generated", campaign.id, count)
    return [code for code, _digest in pairs]


def launch(session, runtime, campaign: Campaign, now: datetime) -> list[int]:
    """Open a draft campaign and send its SMS invitations; returns the outbox ids."""
    if campaign.status != "draft":
        raise CampaignStateError(f"only a draft campaign can be launched; this one is {campaign.status}")
    if campaign.closes_at is not None and campaign.closes_at <= now:
        raise CampaignStateError("the closing time has passed; set a later closes_at first")
    invitations = session.scalars(
        select(Invitation).where(Invitation.campaign_id == campaign.id).order_by(Invitation.id)
    ).all()
    if not invitations:
        raise CampaignStateError("the campaign has no respondents or codes yet")
    # A conditional update, so two launches racing cannot both send.
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == "draft")
        .values(status="open", launched_at=now, opens_at=now)
    )
    if claimed.rowcount != 1:
        raise CampaignStateError("the campaign was launched by someone else")
    session.refresh(campaign)
    ids = send_invitations(session, runtime, campaign, [i for i in invitations if i.status == "created"], now)
    log.info("campaign %s launched", campaign.id)
    return ids


def close(session, campaign: Campaign, now: datetime):
    """Close the campaign and erase its phone numbers (A5); only keyed hashes stay."""
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is already closed")
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status != "closed")
        .values(status="closed", closed_at=now)
    )
    if claimed.rowcount != 1:
        raise CampaignStateError("the campaign was closed by someone else")
    session.refresh(campaign)
    session.execute(update(Invitation).where(Invitation.campaign_id == campaign.id).values(address_enc=None))
    # Nothing may go out after close: unsent messages fail, and every body
    # and address goes (an invitation body holds a plain code).
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id, OutboxMessage.status == "pending")
        .values(status="failed", error_code="campaign_closed", updated_at=now)
    )
    session.execute(
        update(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id).values(address_enc=None, body=None)
    )
    # Unfinished conversations end here, with their encrypted addresses and
    # partial answers; a message after close would only cost and annoy.
    invitations = select(Invitation.id).where(Invitation.campaign_id == campaign.id)
    session.execute(delete(Conversation).where(Conversation.invitation_id.in_(invitations)))
    # The last answer sets in the mixing pool are written now, however few (A3).
    after_commit(session, flush_pool, campaign.id, True)
    log.info("campaign %s closed", campaign.id)
