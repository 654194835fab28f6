"""Results with small cells hidden (issue 5b's functions), a run chart across waves, and the exports."""
import hashlib
import json
import logging

from flask import Response
from flask import abort
from flask import render_template
from flask import request
from markupsafe import Markup
from sqlalchemy import select

from ..accounts import audit
from ..accounts.access import unit_scope
from ..answer_side.exports import answers_csv
from ..answer_side.flow_results import flow_results_zip
from ..models import Campaign
from ..models import SurveyVersion
from ..models import Unit
from ..answer_side.results_cache import KEEP_SECONDS
from ..answer_side.results_cache import document_tag
from ..answer_side.results_cache import tagged_results
from ..surveys import survey_of
from . import bp
from . import charts
from .campaigns import reader_title
from .guard import admin_only
from .guard import campaign_or_404
from .guard import transaction
from .i18n import current_language
from .i18n import day

log = logging.getLogger(__name__)

# Earlier waves shown in the run chart; a decade of yearly surveys fits.
MAX_WAVES = 12
MEANS = ("scale", "number")


def results_language(campaign) -> str:
    """The reader's language if the survey has it, else the campaign's."""
    survey = survey_of(campaign.survey_version)
    language = current_language()
    return language if language in survey.languages else campaign.default_language


def _results(session, user, campaign, config) -> dict:
    return _tagged_results(session, user, campaign, config)[1]


def _tagged_results(session, user, campaign, config) -> tuple[int, dict]:
    tag, body = tagged_results(
        session, campaign, results_language(campaign), min_cell=config.min_cell, min_comments=config.min_comments,
        unit_scope=unit_scope(session, user),
    )
    return tag, json.loads(body)


def _rows(data: dict, question: dict) -> list[dict]:
    """One row per unit shown (all groups together), the organisation first; then per group of each unit."""
    names = {unit["key"]: unit for unit in data["units"]}
    groups = {group["key"]: group["name"] for group in data["groups"]}
    rows = []
    for cell in question["cells"]:
        unit = names.get(cell["unit"])
        if unit is None:
            continue
        answered = cell.get("answered")
        shares = {}
        for option, count in (cell.get("counts") or {}).items():
            shares[option] = None if count is None or not answered else count / answered
        rows.append({
            "unit": unit["name"], "kind": unit["kind"], "group": None if cell["group"] == "all" else groups.get(cell["group"]),
            "cell": cell, "shares": shares,
        })
    # The organisation, then units; each unit's groups follow it.
    rows.sort(key=lambda row: (row["kind"] != "organisation", row["unit"], row["group"] is not None, row["group"] or ""))
    return rows


def waves(session, campaign: Campaign, user, config) -> list[dict]:
    """Earlier launched campaigns of the same survey (by key) in the organisation, oldest first, with this one."""
    found = []
    for wave in wave_campaigns(session, campaign, unit_scope(session, user)):
        tag, results = _tagged_results(session, user, wave, config)
        found.append({"campaign": wave, "results": results, "tag": tag})
    return found


def wave_campaigns(session, campaign: Campaign, scope: set | None = None) -> list[Campaign]:
    """The campaigns of the run chart, oldest first; for a coordinator (`scope`), only those she may open.

    A coordinator may open a campaign that is not a draft and includes one of
    her units; any other campaign's name, date and figures stay out of her chart.
    """
    key = campaign.survey_version.key
    earlier = session.scalars(
        select(Campaign)
        .join(SurveyVersion, SurveyVersion.id == Campaign.survey_version_id)
        .where(
            Campaign.organisation_id == campaign.organisation_id,
            SurveyVersion.key == key,
            Campaign.launched_at.is_not(None),
            *([Campaign.status != "draft", Campaign.units.any(Unit.id.in_(sorted(scope)))] if scope is not None else []),
        )
        .order_by(Campaign.launched_at.desc())
        .limit(MAX_WAVES)
    ).all()
    return list(reversed(earlier))


def run_charts(wave_results: list[dict], zone: str) -> list[dict]:
    """Per scale or number question: the organisation's mean in each wave, as a run chart."""
    if len(wave_results) < 2:
        return []
    latest = wave_results[-1]["results"]
    result = []
    for question in latest["questions"]:
        if question["type"] not in MEANS:
            continue
        points = []
        for wave in wave_results:
            match = next((q for q in wave["results"]["questions"] if q["id"] == question["id"]), None)
            cell = None if match is None else next(
                (c for c in match["cells"] if c["unit"] == "organisation" and c["group"] == "all"), None
            )
            points.append({
                "label": day(wave["campaign"].launched_at, zone),
                "name": wave["campaign"].name,
                "value": None if cell is None else cell.get("mean"),
            })
        values = [point["value"] for point in points if point["value"] is not None]
        if len(values) < 1:
            continue
        low, high = _scale_bounds(question, values)
        chart = charts.run_chart(points, low, high)
        if chart:
            result.append({"question": question, "chart": chart, "points": points})
    return result


def _scale_bounds(question, values) -> tuple[float, float]:
    numeric = [option["value"] for option in question["options"] if str(option["value"]).isdigit()]
    if numeric:
        return float(min(int(v) for v in numeric)), float(max(int(v) for v in numeric))
    return float(min(values)), float(max(values))


@bp.get("/campaigns/<int:campaign_id>/results")
def results(campaign_id):
    """Distribution and mean per question, by unit and for the organisation; cells below k hidden."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        config = session.info["runtime"].config
        runtime = session.info["runtime"]
        shown = wave_campaigns(session, campaign, unit_scope(session, user)) if campaign.launched_at else []
        tags = [document_tag(session, wave, results_language(wave), min_cell=config.min_cell, min_comments=config.min_comments,
                             unit_scope=unit_scope(session, user)) for wave in shown or [campaign]]
        body = None
        if None not in tags:
            signature, _newline, body = (_get(runtime, _page_key(session, user, campaign)) or b"\n").partition(b"\n")
            if signature != _signature(user, campaign, shown, tags, config).encode():
                body = None
        if not body:
            body = _render_body(session, user, campaign, config, runtime)
        return render_template(
            "admin/results.html", nav="campaigns", campaign=campaign, survey=reader_title(campaign), body=Markup(body.decode()),
        )


def _render_body(session, user, campaign, config, runtime) -> bytes:
    """The page below its tabs, kept under the states of the tables it shows."""
    wave_results = waves(session, campaign, user, config) if campaign.launched_at else []
    current = next((w for w in wave_results if w["campaign"].id == campaign.id), None)
    if current is None:
        tag, data = _tagged_results(session, user, campaign, config)
        tags = [tag]
    else:
        data, tags = current["results"], [w["tag"] for w in wave_results]
    zone = campaign.organisation.timezone or "Europe/Oslo"
    questions = [{"question": q, "rows": _rows(data, q)} for q in data["questions"] if q["type"] != "text"]
    texts = [q for q in data["questions"] if q["type"] == "text"]
    unit_names = {unit["key"]: unit["name"] for unit in data["units"]}
    body = render_template(
        "admin/_results_body.html", campaign=campaign, data=data, questions=questions, texts=texts, unit_names=unit_names,
        trends=run_charts(wave_results, zone), coordinator=user.role != "admin",
    ).encode()
    signature = _signature(user, campaign, [w["campaign"] for w in wave_results], tags, config)
    # One entry per reader variant, holding the latest state only.
    _set(runtime, _page_key(session, user, campaign), signature.encode() + b"\n" + body)
    return body


def _page_key(session, user, campaign) -> str:
    """One entry per campaign, reader language, role and units."""
    scope = unit_scope(session, user)
    described = repr((current_language(), user.role, None if scope is None else sorted(scope)))
    return f"svar:results-page:{campaign.id}:{hashlib.sha256(described.encode()).hexdigest()[:24]}"


def _signature(user, campaign, shown: list, tags: list, config) -> str:
    """The state the body shows: each table's response count and language, the waves' labels, the campaign's status."""
    zone = campaign.organisation.timezone or "Europe/Oslo"
    described = repr((
        [(wave.id, wave.status, wave.name, wave.launched_at, results_language(wave)) for wave in shown or [campaign]],
        tags, campaign.status, zone, config.min_cell, config.min_comments,
    ))
    return hashlib.sha256(described.encode()).hexdigest()[:24]


def _get(runtime, key):
    try:
        return runtime.redis.get(key)
    except Exception as exc:
        log.warning("results page cache unavailable: %s", type(exc).__name__)
        return None


def _set(runtime, key, body: bytes):
    try:
        runtime.redis.set(key, body, ex=KEEP_SECONDS)
    except Exception as exc:
        log.warning("results page cache not written: %s", type(exc).__name__)


@bp.get("/campaigns/<int:campaign_id>/exports")
@admin_only
def exports(campaign_id):
    """The downloads: answers as CSV and as a Flow Results package."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        return render_template(
            "admin/exports.html", nav="campaigns", campaign=campaign, survey=reader_title(campaign),
            min_cell=session.info["runtime"].config.min_cell,
        )


@bp.get("/campaigns/<int:campaign_id>/exports/<kind>")
@admin_only
def download(campaign_id, kind):
    """One export, recorded in the audit log."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        min_cell = session.info["runtime"].config.min_cell
        if kind == "answers.csv":
            body = answers_csv(session, campaign, min_cell).encode("utf-8-sig")
            mimetype = "text/csv; charset=utf-8"
        elif kind == "flow-results.zip":
            body = flow_results_zip(session, campaign, results_language(campaign), min_cell)
            mimetype = "application/zip"
        else:
            abort(404)
        audit.record(session, audit.EXPORTED, user, object_type="campaign", object_id=campaign.id, detail=kind,
                     ip=request.remote_addr)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="svar-campaign-{campaign_id}-{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response
