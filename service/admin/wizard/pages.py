"""The launch wizard: survey, units and groups, respondents, languages and channels, reminders, review.

Its state is the draft campaign in the database, never the browser session:
an administrator can stop at any step and go on later, from any computer.
"""
from datetime import timedelta

from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from sqlalchemy import func
from sqlalchemy import select

from ...accounts import audit
from ...dispatch import campaigns as campaign_service
from ...dispatch.channel_setup import sms_configured
from ...dispatch.channel_setup import telegram_configured
from ...models import Campaign
from ...models import Invitation
from ...models import RespondentGroup
from ...models import SurveyVersion
from ...models import Unit
from ...models import utcnow
from ...surveys import survey_of
from ...surveys import sync_bundled
from .. import bp
from ..forms import Form
from ..forms import local_input
from ..guard import admin_only
from ..guard import campaign_or_404
from ..guard import runtime
from ..guard import transaction
from ..i18n import _
from .common import HANDLERS
from .common import STEPS
from .common import handles
from .common import render_step

CLOSES_AFTER = timedelta(days=28)


def resume_wizard(campaign: Campaign):
    """Where a draft's wizard goes on: respondents until there are some, else the review."""
    return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step="respondents"))


def _draft(session, user, campaign_id: int) -> Campaign:
    campaign = campaign_or_404(session, user, campaign_id)
    return campaign


def _not_draft(campaign: Campaign):
    flash(_("This campaign has been launched; its setup can no longer change."), "info")
    return redirect(url_for("admin.campaign", campaign_id=campaign.id))


# --- step 1: survey ----------------------------------------------------------


def _survey_options(session) -> list[tuple[int, str]]:
    sync_bundled(session)
    options = []
    for version in session.scalars(select(SurveyVersion).order_by(SurveyVersion.key, SurveyVersion.version.desc())):
        survey = survey_of(version)
        title = survey.title.get("en") or survey.title.get(survey.default_language) or survey.key
        options.append((version.id, _("%(title)s (version %(version)s)", title=title, version=version.version)))
    return options


def _read_survey_form(session, organisation, data) -> tuple[Form, dict]:
    form = Form(data)
    zone = organisation.timezone
    name = form.text("name")
    version_id = form.integer("survey_version", 1, 2**31, required=True)
    opens_at = form.moment("opens_at", zone, required=False)
    closes_at = form.moment("closes_at", zone)
    version = session.get(SurveyVersion, version_id) if version_id else None
    if version_id and version is None:
        form.fail("survey_version", _("Choose one of the surveys."))
    now = utcnow()
    if closes_at is not None and closes_at <= now:
        form.fail("closes_at", _("The closing time must be in the future."))
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        form.fail("closes_at", _("The closing time must be after the opening time."))
    return form, {"name": name, "version": version, "opens_at": opens_at, "closes_at": closes_at}


@bp.route("/campaigns/new", methods=["GET", "POST"])
@admin_only
def new_campaign():
    """Step 1 for a new campaign; it becomes a draft as soon as this step is saved."""
    with transaction() as (session, user):
        organisation = user.organisation
        units = session.scalars(select(Unit).where(Unit.organisation_id == organisation.id)).all()
        options = _survey_options(session)
        if request.method == "GET":
            values = {
                "survey_version": str(options[0][0]) if options else "",
                "closes_at": local_input(utcnow() + CLOSES_AFTER, organisation.timezone),
            }
            return render_step("survey", None, form=values, errors={}, surveys=options, no_units=not units)
        form, read = _read_survey_form(session, organisation, request.form)
        if not units:
            form.fail("form", _("Create at least one unit first (Units and groups)."))
        if not form.ok:
            return render_step("survey", None, form=form.values, errors=form.errors, surveys=options, no_units=not units), 400
        survey = survey_of(read["version"])
        language = organisation.default_language if organisation.default_language in survey.languages else survey.default_language
        # Every unit to start with (without those that only group others); the next step narrows it.
        parents = {unit.parent_id for unit in units if unit.parent_id}
        leaves = [unit.id for unit in units if unit.id not in parents] or [unit.id for unit in units]
        try:
            campaign = campaign_service.create_campaign(
                session, organisation, read["version"], read["name"], leaves, language,
                closes_at=read["closes_at"], opens_at=read["opens_at"], channels=default_channels(),
            )
        except campaign_service.CampaignError as error:
            form.fail("form", str(error))
            return render_step("survey", None, form=form.values, errors=form.errors, surveys=options, no_units=False), 400
        audit.record(session, audit.CAMPAIGN_CREATED, user, object_type="campaign", object_id=campaign.id,
                     detail=campaign.name, ip=request.remote_addr)
        campaign_id = campaign.id
    return redirect(url_for("admin.wizard_step", campaign_id=campaign_id, step="units"))


def default_channels() -> list[str]:
    """The channels this deployment can send on, and paper codes, which need no setup."""
    config = runtime().config
    configured = [name for name, ready in (("sms", sms_configured(config)), ("telegram", telegram_configured(config))) if ready]
    return [*configured, "paper"]


@bp.route("/campaigns/<int:campaign_id>/setup/<step>", methods=["GET", "POST"])
@admin_only
def wizard_step(campaign_id, step):
    """One step of a draft's wizard."""
    if step not in STEPS:
        abort(404)
    with transaction() as (session, user):
        campaign = _draft(session, user, campaign_id)
        if campaign.status != "draft":
            return _not_draft(campaign)
        return HANDLERS[step](session, user, campaign)


@handles("survey")
def _survey_step(session, user, campaign):
    organisation = user.organisation
    options = _survey_options(session)
    if request.method == "GET":
        values = {
            "name": campaign.name,
            "survey_version": str(campaign.survey_version_id),
            "opens_at": local_input(campaign.opens_at, organisation.timezone),
            "closes_at": local_input(campaign.closes_at, organisation.timezone),
        }
        return render_step("survey", campaign, form=values, errors={}, surveys=options, no_units=False)
    form, read = _read_survey_form(session, organisation, request.form)
    if form.ok and read["version"].id != campaign.survey_version_id and _invitation_count(session, campaign):
        form.fail("survey_version", _("Respondents have been added; the survey can no longer change."))
    if not form.ok:
        return render_step("survey", campaign, form=form.values, errors=form.errors, surveys=options, no_units=False), 400
    campaign.name = read["name"]
    if read["version"].id != campaign.survey_version_id:
        campaign.survey_version = read["version"]
        survey = survey_of(read["version"])
        campaign.languages = [language for language in campaign.languages or [] if language in survey.languages] or list(survey.languages)
        if campaign.default_language not in campaign.languages:
            campaign.default_language = survey.default_language if survey.default_language in campaign.languages else campaign.languages[0]
    campaign.opens_at, campaign.closes_at = read["opens_at"], read["closes_at"]
    return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step="units"))


# --- step 2: units and groups --------------------------------------------------


@handles("units")
def _units_step(session, user, campaign):
    units = session.scalars(select(Unit).where(Unit.organisation_id == campaign.organisation_id).order_by(Unit.name)).all()
    groups = session.scalars(
        select(RespondentGroup).where(RespondentGroup.organisation_id == campaign.organisation_id).order_by(RespondentGroup.name)
    ).all()
    used_units, used_groups = _used(session, campaign)
    if request.method == "GET":
        values = {"unit_ids": [str(unit.id) for unit in campaign.units], "group_ids": [str(group.id) for group in campaign.groups]}
        return render_step("units", campaign, form=values, errors={}, units=units, groups=groups)
    form = Form(request.form)
    unit_ids = set(form.ids("unit_ids"))
    group_ids = set(form.ids("group_ids"))
    by_id = {unit.id: unit for unit in units}
    groups_by_id = {group.id: group for group in groups}
    if not unit_ids:
        form.fail("unit_ids", _("Choose at least one unit."))
    elif not unit_ids <= set(by_id):
        form.fail("unit_ids", _("Choose units of your organisation only."))
    elif not used_units <= unit_ids:
        names = ", ".join(sorted(by_id[unit_id].name for unit_id in used_units - unit_ids))
        form.fail("unit_ids", _("These units already have respondents and must stay: %(names)s", names=names))
    if not group_ids <= set(groups_by_id):
        form.fail("group_ids", _("Choose groups of your organisation only."))
    elif group_ids and not {g for g in used_groups if g is not None} <= group_ids:
        form.fail("group_ids", _("Groups that already have respondents must stay chosen."))
    if not form.ok:
        return render_step("units", campaign, form=form.values, errors=form.errors, units=units, groups=groups), 400
    campaign.units = [by_id[unit_id] for unit_id in sorted(unit_ids)]
    campaign.groups = [groups_by_id[group_id] for group_id in sorted(group_ids)]
    return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step="respondents"))


def _used(session, campaign) -> tuple[set, set]:
    rows = session.execute(
        select(Invitation.unit_id, Invitation.group_id).where(Invitation.campaign_id == campaign.id).distinct()
    ).all()
    return {row[0] for row in rows}, {row[1] for row in rows}


def _invitation_count(session, campaign) -> int:
    return session.scalar(select(func.count()).select_from(Invitation).where(Invitation.campaign_id == campaign.id))
