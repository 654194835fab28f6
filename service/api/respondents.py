"""Filling a campaign: respondents by JSON or CSV, and printable paper codes."""
from flask import request

from .. import campaigns
from ..respondent_rows import as_id
from . import bp
from .auth import api_call
from .auth import json_body
from .campaigns import conflict
from .campaigns import find_campaign
from .csv_upload import read_rows
from .errors import ApiError
from .errors import invalid

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@bp.post("/campaigns/<int:campaign_id>/respondents")
@api_call()
def add_respondents(session, user, campaign_id):
    """Invite respondents by SMS; 207 when some rows were not added, with the reasons."""
    campaign = find_campaign(session, user, campaign_id)
    if request.mimetype in CSV_TYPES:
        numbered = read_rows(request.get_data())
    elif request.is_json:
        respondents = json_body().get("respondents")
        if not isinstance(respondents, list):
            raise invalid("respondents must be a list", field="respondents")
        # JSON rows are reported by their index in `respondents`, from 0.
        numbered = list(enumerate(respondents))
    else:
        raise ApiError(415, "send application/json or text/csv")
    if not numbered:
        raise invalid("no respondents given")
    lines = [line for line, _row in numbered]
    try:
        report = campaigns.add_respondents(session, session.info["runtime"], campaign, [row for _line, row in numbered])
    except campaigns.CampaignError as error:
        raise conflict(error) from None

    def entries(items):
        return [{"row": lines[item["index"]], **{k: v for k, v in item.items() if k != "index"}} for item in items]

    body = {
        "added": report.added,
        "errors": entries(report.errors),
        "duplicates": entries(report.duplicates),
        "opted_out": entries(report.opted_out),
    }
    return body, 200 if report.clean else 207


@bp.post("/campaigns/<int:campaign_id>/codes")
@api_call()
def create_codes(session, user, campaign_id):
    """Printable one-time codes for a unit (and group), returned this once only."""
    campaign = find_campaign(session, user, campaign_id)
    body = json_body()
    unit_id = as_id(body.get("unit_id"))
    if unit_id is None:
        raise invalid("unit_id is required", field="unit_id")
    group_id = body.get("group_id")
    if group_id is not None and as_id(group_id) is None:
        raise invalid("group_id must be an id", field="group_id")
    count = body.get("count")
    language = body.get("language")
    try:
        codes = campaigns.generate_paper_codes(
            session, session.info["runtime"], campaign, unit_id, as_id(group_id), count, language=language
        )
    except campaigns.CampaignError as error:
        raise conflict(error) from None
    payload = {"campaign_id": campaign.id, "unit_id": unit_id, "group_id": as_id(group_id), "count": len(codes), "codes": codes}
    # Codes are secrets: no cache or proxy may keep this response.
    return payload, 201, {"Cache-Control": "no-store"}
