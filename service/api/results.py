"""Results and exports of a campaign, protected against small cells (A6)."""
from flask import Response
from flask import request

from ..accounts import audit
from ..accounts.access import unit_scope
from ..answer_side.exports import answers_csv
from ..answer_side.flow_results import flow_results_zip
from ..answer_side.results_cache import cached_results_json
from ..surveys import survey_of
from . import bp
from .auth import ADMIN
from .auth import READERS
from .auth import api_call
from .campaigns import find_campaign
from .errors import invalid


def results_scope(session, user, campaign) -> set[int] | None:
    """The unit ids whose own figures `user` may read; None for all (organisation totals always).

    The one place to narrow results further for a role; exports are for
    administrators only, as a row per response is more than a coordinator
    needs to follow their units.
    """
    return unit_scope(session, user)


def requested_language(campaign) -> str:
    """?lang=, else the campaign's language; 400 for a language the survey does not have."""
    survey = survey_of(campaign.survey_version)
    language = (request.args.get("lang") or campaign.default_language or survey.default_language).strip().lower()
    if language not in survey.languages:
        raise invalid(f"the survey has no language {language!r}; it has {', '.join(survey.languages)}", field="lang")
    return language


@bp.get("/campaigns/<int:campaign_id>/results")
@api_call(READERS)
def get_results(session, user, campaign_id):
    """Per question distribution and mean by unit, group and organisation; small cells hidden."""
    campaign = find_campaign(session, user, campaign_id)
    config = session.info["runtime"].config
    body = cached_results_json(
        session,
        campaign,
        requested_language(campaign),
        min_cell=config.min_cell,
        min_comments=config.min_comments,
        unit_scope=results_scope(session, user, campaign),
    )
    # Encoded once when computed; decoding and encoding again cost more than the rest of the call.
    return Response(body, mimetype="application/json")


@bp.get("/campaigns/<int:campaign_id>/exports/answers.csv")
@api_call(ADMIN)
def export_answers_csv(session, user, campaign_id):
    """One row per response, coarsened so that no unit, group or background combination is below k."""
    campaign = find_campaign(session, user, campaign_id)
    body = answers_csv(session, campaign, session.info["runtime"].config.min_cell)
    _audit(session, user, campaign, "answers.csv")
    return _download(body.encode("utf-8-sig"), "text/csv; charset=utf-8", f"svar-campaign-{campaign.id}-answers.csv")


@bp.get("/campaigns/<int:campaign_id>/exports/flow-results.zip")
@api_call(ADMIN)
def export_flow_results(session, user, campaign_id):
    """The Flow Results package (FLOIP) of the same protected rows, as a zip."""
    campaign = find_campaign(session, user, campaign_id)
    body = flow_results_zip(session, campaign, requested_language(campaign), session.info["runtime"].config.min_cell)
    _audit(session, user, campaign, "flow-results.zip")
    return _download(body, "application/zip", f"svar-campaign-{campaign.id}-flow-results.zip")


def _audit(session, user, campaign, what: str):
    audit.record(session, audit.EXPORTED, user, object_type="campaign", object_id=campaign.id, detail=what,
                 ip=request.remote_addr)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Answers must not linger in shared caches or the browser's.
    response.headers["Cache-Control"] = "no-store"
    return response
