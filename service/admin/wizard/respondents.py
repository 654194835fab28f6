"""Wizard step 3: respondents, from a CSV upload (with its row report) or as printed paper codes."""
from flask import request
from sqlalchemy import func
from sqlalchemy import select

from ...accounts import audit
from ...dispatch import campaigns as campaign_service
from ...api.csv_upload import read_rows
from ...api.errors import ApiError
from ...models import Invitation
from ...models import RespondentGroup
from ...dispatch.paper_sheet import render_sheet
from ...dispatch.respondent_rows import campaign_languages
from ...dispatch.respondents import add_respondents
from ...infra.url_ids import parsed_id
from ..forms import Form
from ..i18n import _
from ..security import policy_allowing_styles_of
from .common import handles
from .common import render_step

MAX_CODES = campaign_service.MAX_PAPER_CODES


def respondent_counts(session, campaign) -> list[dict]:
    """Invitations so far by unit, group, channel and language, for the page's summary table."""
    rows = session.execute(
        select(Invitation.unit_id, Invitation.group_id, Invitation.channel, Invitation.language, func.count())
        .where(Invitation.campaign_id == campaign.id)
        .group_by(Invitation.unit_id, Invitation.group_id, Invitation.channel, Invitation.language)
    ).all()
    units = {unit.id: unit.name for unit in campaign.units}
    groups = dict(
        session.execute(
            select(RespondentGroup.id, RespondentGroup.name).where(RespondentGroup.organisation_id == campaign.organisation_id)
        ).all()
    )
    return sorted(
        (
            {"unit": units.get(unit_id, "?"), "group": groups.get(group_id), "channel": channel, "language": language, "count": count}
            for unit_id, group_id, channel, language, count in rows
        ),
        key=lambda row: (row["unit"], row["group"] or "", row["channel"], row["language"]),
    )


def _group_options(session, campaign) -> list:
    if campaign.groups:
        return sorted(campaign.groups, key=lambda group: group.name)
    return session.scalars(
        select(RespondentGroup).where(RespondentGroup.organisation_id == campaign.organisation_id).order_by(RespondentGroup.name)
    ).all()


def _page(session, campaign, status=200, **context):
    defaults = {"upload_errors": {}, "codes_errors": {}, "codes_form": {"count": "30"}, "report": None}
    defaults.update(context)
    return render_step(
        "respondents", campaign, counts=respondent_counts(session, campaign), groups=_group_options(session, campaign),
        languages=campaign_languages(campaign), max_codes=MAX_CODES, **defaults,
    ), status


@handles("respondents")
def respondents_step(session, user, campaign):
    if request.method == "GET":
        return _page(session, campaign)
    if request.form.get("action") == "codes":
        return _codes(session, user, campaign)
    return _upload(session, user, campaign)


def _upload(session, user, campaign):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(session, campaign, 400, upload_errors={"file": _("Choose a CSV file to upload.")})
    data = upload.read()
    try:
        numbered = read_rows(data)
    except ApiError as error:
        return _page(session, campaign, 400, upload_errors={"file": _("The file cannot be used: %(reason)s", reason=error.message)})
    if not numbered:
        return _page(session, campaign, 400, upload_errors={"file": _("The file has a header but no respondents.")})
    lines = [line for line, _row in numbered]
    try:
        report = add_respondents(session, session.info["runtime"], campaign, [row for _line, row in numbered])
    except campaign_service.CampaignError as error:
        return _page(session, campaign, 400, upload_errors={"file": str(error)})

    audit.record(session, "respondents_added", user, object_type="campaign", object_id=campaign.id,
                 detail=f"{report.added} added from {upload.filename}"[:200], ip=request.remote_addr)
    session.flush()
    summary = {**report.numbered(lines, "line"), "filename": upload.filename}
    return _page(session, campaign, report=summary)


def _codes(session, user, campaign):
    form = Form(request.form)
    unit_ids = {unit.id for unit in campaign.units}
    unit_id = form.integer("unit_id", 1, 2**31)
    if unit_id is not None and unit_id not in unit_ids:
        form.fail("unit_id", _("Choose one of the campaign's units."))
    group_raw = (request.form.get("group_id") or "").strip()
    form.values["group_id"] = group_raw
    group_id = parsed_id(group_raw)
    groups = {group.id for group in _group_options(session, campaign)}
    if group_id is not None and group_id not in groups:
        form.fail("group_id", _("Choose one of the groups."))
    if group_id is None and len(campaign.groups) > 1:
        form.fail("group_id", _("Choose a group: the campaign has several."))
    language = form.choice("language", campaign_languages(campaign))
    count = form.integer("count", 1, MAX_CODES)
    if not form.ok:
        return _page(session, campaign, 400, codes_errors=form.errors, codes_form=form.values)
    if "paper" not in (campaign.channels or []):
        # Asking for paper codes is choosing the paper channel.
        campaign.channels = [*(campaign.channels or []), "paper"]
    try:
        codes = campaign_service.generate_paper_codes(
            session, session.info["runtime"], campaign, unit_id, group_id, count, language=language
        )
    except campaign_service.CampaignError as error:
        form.fail("count", str(error))
        return _page(session, campaign, 400, codes_errors=form.errors, codes_form=form.values)
    audit.record(session, "codes_generated", user, object_type="campaign", object_id=campaign.id,
                 detail=f"{count} paper codes", ip=request.remote_addr)
    unit = next(unit for unit in campaign.units if unit.id == unit_id)
    group = session.get(RespondentGroup, group_id) if group_id else None
    # The respondents' printable sheet (one card per code, in their language), shown this once.
    html = render_sheet(session.info["runtime"], campaign, unit, group, language, codes)
    return html, 200, {"Content-Security-Policy": policy_allowing_styles_of(html)}
