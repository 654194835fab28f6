"""Campaigns: list, create, read, launch, close and progress."""
from flask import request
from sqlalchemy import select

from ..accounts import audit
from ..dispatch import campaigns
from ..dispatch import closing
from ..answer_side import releases
from ..infra.queue import after_commit
from ..accounts.access import restrict_progress
from ..accounts.access import unit_scope
from ..accounts.access import visible_campaigns
from ..models import Campaign
from ..models import SurveyVersion
from ..models import utcnow
from ..dispatch.preview import campaign_preview as build_preview
from ..progress import snapshot as progress_snapshot
from ..surveys import latest
from ..surveys import survey_of
from . import bp
from .auth import READERS
from .auth import api_call
from .auth import check_campaign
from .auth import json_body
from .campaign_body import campaign_options
from .errors import ApiError
from .errors import invalid
from .surveys import ensure_bundled
from .values import campaign_json
from .values import read_datetime
from .values import read_id
from .values import read_text


def find_campaign(session, user, campaign_id: int) -> Campaign:
    """The campaign if the caller may see it (organisation, a coordinator's units); 404 otherwise."""
    return check_campaign(session, user, session.get(Campaign, campaign_id))


def conflict(error: campaigns.CampaignError) -> ApiError:
    """A campaign refusal: 409 when its status is the reason, 400 when the request is."""
    if isinstance(error, campaigns.CampaignStateError):
        return ApiError(409, str(error), "campaign_state")
    return invalid(str(error))


@bp.get("/campaigns")
@api_call(READERS)
def list_campaigns(session, user):
    """The organisation's campaigns, newest first."""
    rows = session.scalars(visible_campaigns(session, user).order_by(Campaign.id.desc()))
    return {"campaigns": [campaign_json(campaign) for campaign in rows]}


@bp.post("/campaigns")
@api_call()
def create_campaign(session, user):
    """A draft campaign of a stored survey (latest version unless `survey_version` is given)."""
    body = json_body()
    key = read_text(body.get("survey"), "survey", max_length=100)
    name = read_text(body.get("name"), "name")
    wanted = read_id(body.get("survey_version"), "survey_version", required=False)
    unit_ids = body.get("unit_ids")
    if not isinstance(unit_ids, list) or not unit_ids:
        raise invalid("unit_ids must be a non-empty list of unit ids", field="unit_ids")
    unit_ids = [read_id(unit_id, "unit_ids") for unit_id in unit_ids]
    closes_at = read_datetime(body.get("closes_at"), "closes_at")
    ensure_bundled(session)
    if wanted is None:
        version = latest(session, key)
    else:
        version = session.scalar(select(SurveyVersion).where(SurveyVersion.key == key, SurveyVersion.version == wanted))
    if version is None:
        raise invalid("no such survey (or survey version)", field="survey")
    language = body.get("default_language")
    if language is None:
        # The organisation's language if the survey has it, else the survey's own.
        survey = survey_of(version)
        language = user.organisation.default_language
        language = language if language in survey.languages else survey.default_language
    if not isinstance(language, str):
        raise invalid("default_language must be a language code", field="default_language")
    try:
        campaign = campaigns.create_campaign(
            session, user.organisation, version, name, unit_ids, language.strip().lower(), closes_at=closes_at,
            **campaign_options(body),
        )
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    return campaign_json(campaign), 201


@bp.get("/campaigns/<int:campaign_id>")
@api_call(READERS)
def get_campaign(session, user, campaign_id):
    """One campaign."""
    return campaign_json(find_campaign(session, user, campaign_id))


@bp.post("/campaigns/<int:campaign_id>/launch")
@api_call()
def launch_campaign(session, user, campaign_id):
    """Open a draft campaign and queue its invitations, or schedule it for `opens_at` (body or campaign)."""
    campaign = find_campaign(session, user, campaign_id)
    opens_at = read_datetime(json_body().get("opens_at"), "opens_at") if request.content_length else None
    try:
        queued = campaigns.launch(session, session.info["runtime"], campaign, utcnow(), opens_at=opens_at)
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    return {**campaign_json(campaign), "invitations_queued": len(queued)}


@bp.post("/campaigns/<int:campaign_id>/close")
@api_call()
def close_campaign(session, user, campaign_id):
    """Close a campaign; its phone numbers are erased."""
    campaign = find_campaign(session, user, campaign_id)
    try:
        closing.close(session, campaign, utcnow())
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    return campaign_json(campaign)


@bp.post("/campaigns/<int:campaign_id>/release")
@api_call()
def request_release(session, user, campaign_id):
    """Ask for an interim release of results; it goes out once every changed group gains k answers (A3)."""
    campaign = find_campaign(session, user, campaign_id)
    runtime = session.info["runtime"]
    try:
        releases.request_interim(session, campaign, runtime.config.min_cell)
    except ValueError as error:
        raise ApiError(409, str(error), "campaign_state") from None
    audit.record(session, audit.RELEASE_REQUESTED, user, object_type="campaign", object_id=campaign.id)
    # The fast path; the release sweeper looks again every minute until the condition holds.
    after_commit(session, releases.RELEASE_JOB, campaign.id)
    return releases.release_state(session, campaign, runtime.config.min_cell), 202


@bp.get("/campaigns/<int:campaign_id>/progress")
@api_call(READERS)
def campaign_progress(session, user, campaign_id):
    """How far the invitations got, overall and per unit."""
    campaign = find_campaign(session, user, campaign_id)
    snapshot = progress_snapshot.current(session, campaign, full=False)
    counted = restrict_progress(snapshot.progress, unit_scope(session, user))
    # When the figures come from a snapshot of a large campaign: the moment they were counted.
    return {**counted, "as_of": snapshot.as_of.isoformat() if snapshot.as_of else None}


@bp.get("/campaigns/<int:campaign_id>/preview")
@api_call(READERS)
def campaign_preview(session, user, campaign_id):
    """Each language's messages with their SMS segments, and what the invitations cost in segments."""
    return build_preview(session, find_campaign(session, user, campaign_id))
