"""Campaigns: create one, invite respondents or print codes, launch (or schedule), open, close.

Plain functions on a session and a runtime; the JSON API and the admin view
call them inside their transaction, and queued work runs after its commit.

Codes and SMS invitations: a code is never in clear in the database (A7),
yet the invitation SMS and the reminders must carry it. An invitation added
before launch gets a random placeholder hash instead (code_hash is NOT NULL
and unique; see respondents.placeholder_code_hashes); when the campaign opens
every invitation with a phone draws a fresh code: its keyed hash replaces the
placeholder, its encryption goes to code_enc, and the outbox bodies hold a
slot that the send job fills in memory (service/outbox/code_slots.py). code_enc is
erased at completion, opt-out and close. Paper codes are different: they are
returned once to the caller for printing, never stored encrypted and never
redrawn.

Statuses: draft -> (launch) -> scheduled when the opening time is still
ahead, else open -> closed. A sweeper opens scheduled campaigns when due and
closes open ones at their closing time (workers/schedule.py).
"""
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import update

from .channel_setup import channel_problems
from flows.languages import ASK
from flows.languages import normalise

from .campaign_errors import CampaignError
from .campaign_errors import CampaignStateError
from .invitations import SEND_COLUMNS
from .invitations import fresh_codes
from .invitations import send_invitations
from ..models import Campaign
from ..models import Invitation
from ..models import OptOut
from ..models import Organisation
from ..models import RespondentGroup
from ..models import SurveyVersion
from ..models import Unit
from ..models import utcnow
from .respondent_rows import RowError
from .respondent_rows import RowReader
from .respondent_rows import campaign_languages
from ..surveys import survey_of

log = logging.getLogger(__name__)

MAX_PAPER_CODES = 1000
CHANNELS = ("sms", "telegram", "paper")
INCOMPLETE_POLICIES = ("discard", "keep")
# A per-campaign small-group threshold above this would switch off every question worth asking.
MAX_SMALL_GROUP = 100

__all__ = ["CampaignError", "CampaignStateError", "create_campaign", "generate_paper_codes", "launch", "open_campaign"]


def create_campaign(
    session,
    organisation: Organisation,
    survey_version: SurveyVersion,
    name: str,
    unit_ids: list[int],
    default_language: str,
    closes_at: datetime | None = None,
    *,
    opens_at: datetime | None = None,
    group_ids: list[int] = (),
    channels: list[str] = ("sms", "paper"),
    languages: list[str] | None = None,
    incomplete_policy: str = "discard",
    small_group: int | None = None,
) -> Campaign:
    """A draft campaign of `survey_version` for some of the organisation's units and groups."""
    name = (name or "").strip()
    if not name:
        raise CampaignError("name is required")
    if not unit_ids:
        raise CampaignError("at least one unit is required")
    units = _owned(session, Unit, organisation, unit_ids, "unit_ids")
    groups = _owned(session, RespondentGroup, organisation, group_ids, "group_ids")
    survey = survey_of(survey_version)
    languages = list(dict.fromkeys(normalise(language) or str(language) for language in languages or survey.languages))
    default_language = normalise(default_language) or str(default_language)
    lacking = [language for language in [*languages, default_language] if language not in survey.languages]
    if lacking:
        raise CampaignError(f"language {lacking[0]!r} is not one of the survey's: {', '.join(survey.languages)}")
    if default_language not in languages:
        raise CampaignError("default_language must be one of the campaign's languages")
    channels = list(dict.fromkeys(channels or ()))
    if not channels or any(channel not in CHANNELS for channel in channels):
        raise CampaignError(f"channels must be a non-empty list of: {', '.join(CHANNELS)}")
    if incomplete_policy not in INCOMPLETE_POLICIES:
        raise CampaignError(f"incomplete_policy must be one of: {', '.join(INCOMPLETE_POLICIES)}")
    if small_group is not None and (isinstance(small_group, bool) or not isinstance(small_group, int) or not 1 <= small_group <= MAX_SMALL_GROUP):
        raise CampaignError(f"small_group must be a whole number from 1 to {MAX_SMALL_GROUP}")
    check_times(opens_at, closes_at, utcnow())
    campaign = Campaign(
        organisation=organisation,
        survey_version=survey_version,
        name=name,
        units=units,
        groups=groups,
        default_language=default_language,
        languages=languages,
        channels=channels,
        incomplete_policy=incomplete_policy,
        small_group=small_group,
        opens_at=opens_at,
        closes_at=closes_at,
        status="draft",
    )
    session.add(campaign)
    session.flush()
    return campaign


def check_times(opens_at: datetime | None, closes_at: datetime | None, now: datetime):
    """The closing time lies ahead, and after the opening time."""
    if closes_at is not None and closes_at <= now:
        raise CampaignError("closes_at is in the past")
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise CampaignError("closes_at must be after opens_at")


def generate_paper_codes(
    session, runtime, campaign: Campaign, unit_id: int, group_id: int | None, count: int, language: str | None = None
) -> list[str]:
    """`count` printable codes for a unit (and group); shown once, only their hashes kept."""
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is closed")
    if "paper" not in (campaign.channels or ["paper"]):
        raise CampaignError("the campaign does not use paper codes; add paper to its channels")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PAPER_CODES:
        raise CampaignError(f"count must be between 1 and {MAX_PAPER_CODES}")
    read = RowReader(session, campaign)
    try:
        language = read.language(language, allow_ask=True)
        unit_id, group_id = read.unit({"unit_id": unit_id}), read.group(group_id)
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


def launch(session, runtime, campaign: Campaign, now: datetime, opens_at: datetime | None = None) -> list[int]:
    """Launch a draft: open it now (sending invitations) or schedule it; returns the outbox ids."""
    if campaign.status != "draft":
        raise CampaignStateError(f"only a draft campaign can be launched; this one is {campaign.status}")
    opens_at = opens_at or campaign.opens_at
    if campaign.closes_at is None:
        raise CampaignError("set a closing time first: phone numbers are erased when the campaign closes")
    if campaign.closes_at <= now:
        raise CampaignStateError("the closing time has passed; set a later closes_at first")
    if opens_at is not None and campaign.closes_at <= opens_at:
        raise CampaignError("the closing time must be after the opening time")
    _check_languages(session, campaign)
    telegram_by_sms = session.scalar(
        select(Invitation.id)
        .where(Invitation.campaign_id == campaign.id, Invitation.channel == "telegram", Invitation.address_enc.is_not(None))
        .limit(1)
    )
    problems = channel_problems(runtime.config, campaign.channels or ["sms"], telegram_by_sms is not None)
    if problems:
        raise CampaignError("; ".join(problems))
    if session.scalar(select(Invitation.id).where(Invitation.campaign_id == campaign.id).limit(1)) is None:
        raise CampaignStateError("the campaign has no respondents or codes yet")
    scheduled = opens_at is not None and opens_at > now
    # A conditional update, so two launches racing cannot both send.
    claimed = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == "draft")
        .values(status="scheduled" if scheduled else "open", launched_at=now, opens_at=opens_at if scheduled else now)
    )
    if claimed.rowcount != 1:
        raise CampaignStateError("the campaign was launched by someone else")
    session.refresh(campaign)
    if scheduled:
        log.info("campaign %s scheduled", campaign.id)
        return []
    return _send_created(session, runtime, campaign, now)


def open_campaign(session, runtime, campaign: Campaign, now: datetime) -> list[int]:
    """Open a scheduled campaign whose time has come and send its invitations; the outbox ids."""
    claimed = session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "scheduled").values(status="open")
    )
    if claimed.rowcount != 1:
        raise CampaignStateError("the campaign is not scheduled")
    session.refresh(campaign)
    return _send_created(session, runtime, campaign, now)


def _send_created(session, runtime, campaign: Campaign, now: datetime) -> list[int]:
    # Someone may have opted out between upload and opening: they get nothing.
    opted = select(OptOut.address_hash).where(OptOut.organisation_id == campaign.organisation_id)
    session.execute(
        update(Invitation)
        .where(Invitation.campaign_id == campaign.id, Invitation.status == "created", Invitation.address_hash.in_(opted))
        .values(status="opted_out")
    )
    session.flush()
    # Plain rows on the connection: the ORM's row loading cost more than the query for 100,000.
    invitations = session.connection().execute(
        select(*SEND_COLUMNS).where(Invitation.campaign_id == campaign.id, Invitation.status == "created").order_by(Invitation.id)
    ).all()
    ids = send_invitations(session, runtime, campaign, invitations, now)
    log.info("campaign %s opened", campaign.id)
    return ids


def _check_languages(session, campaign: Campaign):
    """Every language the campaign or its invitations use is one the pinned survey has."""
    survey = survey_of(campaign.survey_version)
    used = set(session.scalars(select(Invitation.language).where(Invitation.campaign_id == campaign.id).distinct()))
    wanted = {campaign.default_language, *campaign_languages(campaign), *used} - {ASK}
    lacking = sorted(wanted - set(survey.languages))
    if lacking:
        raise CampaignError(f"the survey has no {', '.join(lacking)} version; it has: {', '.join(survey.languages)}")


def _owned(session, model, organisation: Organisation, ids, field: str) -> list:
    """The organisation's rows of `model` with these ids, or CampaignError naming `field`."""
    wanted = set(ids or ())
    if not wanted:
        return []
    rows = session.scalars(
        select(model).where(model.organisation_id == organisation.id, model.id.in_(wanted)).order_by(model.id)
    ).all()
    if len(rows) != len(wanted):
        what = "unit" if model is Unit else "group"
        raise CampaignError(f"unknown {what} in {field}")
    return list(rows)
