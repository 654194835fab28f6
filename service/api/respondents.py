"""Filling a campaign: respondents by JSON or CSV, and printable paper codes."""
from flask import request

from flows.languages import ASK
from flows.languages import normalise

from ..dispatch import campaigns
from ..dispatch.respondents import add_respondents as add_to_campaign
from ..models import RespondentGroup
from ..models import Unit
from ..dispatch.paper_sheet import render_sheet
from ..dispatch.respondent_rows import as_id
from . import bp
from .auth import api_call
from .auth import json_body
from .campaigns import conflict
from .campaigns import find_campaign
from .csv_upload import MAX_ROWS
from .csv_upload import read_rows
from .errors import ApiError
from .errors import invalid

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
MAX_UPLOAD = 16 * 1024 * 1024


@bp.post("/campaigns/<int:campaign_id>/respondents")
@api_call()
def add_respondents(session, user, campaign_id):
    """Invite respondents by SMS; 207 when some rows were not added, with the reasons."""
    campaign = find_campaign(session, user, campaign_id)
    # A 100,000-row list is a few megabytes, more than any other request needs.
    request.max_content_length = MAX_UPLOAD
    if request.mimetype in CSV_TYPES:
        numbered = read_rows(request.get_data())
    elif request.is_json:
        respondents = json_body().get("respondents")
        if not isinstance(respondents, list):
            raise invalid("respondents must be a list", field="respondents")
        if len(respondents) > MAX_ROWS:
            raise invalid(f"at most {MAX_ROWS} respondents per request", field="respondents")
        # JSON rows are reported by their index in `respondents`, from 0.
        numbered = list(enumerate(respondents))
    else:
        raise ApiError(415, "send application/json or text/csv")
    if not numbered:
        raise invalid("no respondents given")
    lines = [line for line, _row in numbered]
    try:
        report = add_to_campaign(session, session.info["runtime"], campaign, [row for _line, row in numbered])
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    return report.numbered(lines, "row"), 200 if report.clean else 207


@bp.post("/campaigns/<int:campaign_id>/codes")
@api_call()
def create_codes(session, user, campaign_id):
    """One-time codes for a unit (and group), returned this once only: JSON, or a printable sheet (HTML)."""
    campaign = find_campaign(session, user, campaign_id)
    body = json_body()
    unit_id = as_id(body.get("unit_id"))
    if unit_id is None:
        raise invalid("unit_id is required", field="unit_id")
    group_id = body.get("group_id")
    if group_id is not None and as_id(group_id) is None:
        raise invalid("group_id must be an id", field="group_id")
    group_id = as_id(group_id)
    count = body.get("count")
    language = body.get("language")
    if language is not None and not isinstance(language, str):
        raise invalid("language must be a language code", field="language")
    language = (language or campaign.default_language).strip()
    # As stored: "FA-af" is fa_AF; "ask" leaves the choice to the respondent.
    language = ASK if language.lower() == ASK else (normalise(language) or language)
    try:
        codes = campaigns.generate_paper_codes(
            session, session.info["runtime"], campaign, unit_id, group_id, count, language=language
        )
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    # Codes are secrets: no cache or proxy may keep this response.
    headers = {"Cache-Control": "no-store"}
    if wants_html():
        unit = session.get(Unit, unit_id)
        group = session.get(RespondentGroup, group_id) if group_id is not None else None
        html = render_sheet(session.info["runtime"], campaign, unit, group, language, codes)
        return html, 201, {**headers, "Content-Type": "text/html; charset=utf-8"}
    payload = {
        "campaign_id": campaign.id,
        "unit_id": unit_id,
        "group_id": group_id,
        "language": language,
        "count": len(codes),
        "codes": codes,
    }
    return payload, 201, headers


def wants_html() -> bool:
    """?format=html, or an Accept header that prefers HTML to JSON (a browser)."""
    wanted = request.args.get("format")
    if wanted is not None:
        if wanted not in ("html", "json"):
            raise invalid("format must be html or json", field="format")
        return wanted == "html"
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
