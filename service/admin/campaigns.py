"""The campaign list (the admin view's home), interim releases and closing a campaign."""
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from ..accounts import audit
from ..dispatch import campaigns as campaign_service
from ..dispatch import closing
from ..progress import snapshot as progress_snapshot
from ..answer_side import releases
from ..accounts.access import restrict_progress
from ..accounts.access import unit_scope
from ..accounts.access import visible_campaigns
from ..models import Campaign
from ..models import utcnow
from ..infra.queue import after_commit
from ..surveys import survey_of
from ..surveys import survey_title
from . import bp
from .guard import admin_only
from .guard import campaign_or_404
from .guard import transaction
from .i18n import _
from .i18n import current_language


def reader_title(campaign: Campaign) -> str:
    """The campaign's survey title in the reader's language if it has one, else English, else its default."""
    return survey_title(survey_of(campaign.survey_version), current_language(), "en")


@bp.get("/")
def home():
    """Campaigns the user may see, newest first, with how far each has got."""
    with transaction() as (session, user):
        scope = unit_scope(session, user)
        rows = []
        for campaign in session.scalars(visible_campaigns(session, user).order_by(Campaign.id.desc())):
            rows.append(
                {
                    "campaign": campaign,
                    "survey": reader_title(campaign),
                    "units": [unit.name for unit in campaign.units if scope is None or unit.id in scope],
                    "progress": restrict_progress(progress_snapshot.current(session, campaign, full=False).progress, scope),
                }
            )
        return render_template("admin/home.html", rows=rows, nav="campaigns", coordinator_without_units=scope == set())


@bp.post("/campaigns/<int:campaign_id>/release")
@admin_only
def request_release(campaign_id):
    """Ask for an interim release; it waits until every changed group gains k answers (A3)."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        try:
            releases.request_interim(session, campaign, session.info["runtime"].config.min_cell)
        except ValueError as error:
            flash(_("No interim release: %(reason)s", reason=str(error)), "error")
            return redirect(url_for("admin.campaign", campaign_id=campaign_id))
        audit.record(session, audit.RELEASE_REQUESTED, user, object_type="campaign", object_id=campaign.id, ip=request.remote_addr)
        # The fast path; the release sweeper looks again every minute until the condition holds.
        after_commit(session, releases.RELEASE_JOB, campaign.id)
    flash(_("Interim release requested. The progress page says what it waits for."), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/close", methods=["GET", "POST"])
@admin_only
def close_campaign(campaign_id):
    """Confirm, then close: no more answers, and the phone numbers are erased."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        if request.method == "GET":
            return render_template("admin/close.html", campaign=campaign, nav="campaigns")
        try:
            closing.close(session, campaign, utcnow(), runtime=session.info["runtime"])
        except campaign_service.CampaignError as error:
            flash(_("The campaign could not be closed: %(reason)s", reason=str(error)), "error")
            return redirect(url_for("admin.campaign", campaign_id=campaign_id))
        audit.record(session, audit.CLOSED, user, object_type="campaign", object_id=campaign.id, ip=request.remote_addr)
    flash(_("The campaign is closed. Phone numbers have been erased."), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign_id))
