"""Wizard step 6: everything on one page, what still stops the launch, and the launch itself."""
from flask import flash
from flask import redirect
from flask import request
from flask import url_for

from ...accounts import audit
from ...dispatch import campaigns as campaign_service
from ...dispatch.channel_setup import channel_problems
from ...models import utcnow
from ...dispatch.preview import campaign_preview
from ...reminders.policy import policy_of
from ...dispatch.respondent_rows import campaign_languages
from .. import bp
from ..campaigns import reader_title
from ..guard import admin_only
from ..guard import campaign_or_404
from ..guard import runtime
from ..guard import transaction
from ..i18n import _
from .common import handles
from .common import render_step
from .respondents import respondent_counts
from .reminders import weekday_names


def _page(session, campaign, launch_error=None, status=200):
    counts = respondent_counts(session, campaign)
    by_channel: dict[str, int] = {}
    for row in counts:
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + row["count"]
    policy = policy_of(session, campaign)
    days = dict(weekday_names())
    blockers = list(channel_problems(runtime().config, campaign.channels or []))
    if not counts:
        blockers.append(_("Add respondents or paper codes first."))
    if campaign.closes_at is None:
        blockers.append(_("Set a closing time."))
    return render_step(
        "review", campaign,
        survey=reader_title(campaign),
        by_channel=by_channel,
        total=sum(by_channel.values()),
        languages=campaign_languages(campaign),
        policy=policy,
        weekdays=[days[day] for day in sorted(policy.window.weekdays)],
        preview=campaign_preview(session, campaign),
        blockers=blockers,
        launch_error=launch_error,
        scheduled=campaign.opens_at is not None and campaign.opens_at > utcnow(),
    ), status


@handles("review")
def review_step(session, user, campaign):
    return _page(session, campaign)


@bp.post("/campaigns/<int:campaign_id>/launch")
@admin_only
def launch_campaign(campaign_id):
    """Launch a draft: invitations go out now, or at the opening time if that is ahead."""
    with transaction() as (session, user):
        campaign = campaign_or_404(session, user, campaign_id)
        if campaign.status != "draft":
            flash(_("This campaign has already been launched."), "info")
            return redirect(url_for("admin.campaign", campaign_id=campaign_id))
        try:
            queued = campaign_service.launch(session, session.info["runtime"], campaign, utcnow())
        except campaign_service.CampaignError as error:
            session.rollback()
            campaign = campaign_or_404(session, user, campaign_id)
            return _page(session, campaign, launch_error=str(error), status=409)
        audit.record(session, audit.LAUNCHED, user, object_type="campaign", object_id=campaign.id,
                     detail=f"{campaign.status}; {len(queued)} invitations queued", ip=request.remote_addr)
        status = campaign.status
    if status == "scheduled":
        flash(_("The campaign is scheduled. Invitations go out when it opens."), "success")
    else:
        flash(_("The campaign is open. Invitations are on their way."), "success")
    return redirect(url_for("admin.campaign", campaign_id=campaign_id))
