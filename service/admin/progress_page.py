"""A campaign's progress: the funnel per unit and group, the response rate over time, delivery failures."""
from flask import render_template

from ..access import restrict_progress
from ..access import unit_scope
from ..progress import progress
from ..sampling import TARGET_ANSWERS
from . import bp
from . import charts
from . import timeline
from .campaigns import survey_title
from .guard import campaign_or_404
from .guard import transaction
from .i18n import short_day

# The page asks again this often while the campaign is open.
REFRESH_SECONDS = 15
LIVE = ("open", "scheduled")


def progress_context(session, user, campaign) -> dict:
    """Everything the progress page shows, cut to the units the user may see."""
    scope = unit_scope(session, user)
    zone = campaign.organisation.timezone or "Europe/Oslo"
    days = timeline.daily_rates(session, campaign, scope, zone)
    markers = timeline.reminder_markers(session, campaign, scope, zone)
    return {
        "campaign": campaign,
        "survey": survey_title(campaign),
        "progress": restrict_progress(progress(session, campaign), scope),
        "failures": timeline.delivery_failures(session, campaign, scope),
        "days": days,
        "chart": charts.rate_chart(days, markers, short_day),
        "markers": markers,
        "target": TARGET_ANSWERS,
        "zone": zone,
        "live": campaign.status in LIVE,
        "refresh_seconds": REFRESH_SECONDS,
        "coordinator": scope is not None,
    }


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id):
    """The progress page; it refreshes its numbers while the campaign is open."""
    with transaction() as (session, user):
        found = campaign_or_404(session, user, campaign_id)
        if found.status == "draft" and user.role == "admin":
            from .wizard import resume_wizard

            return resume_wizard(found)
        return render_template("admin/progress.html", nav="campaigns", **progress_context(session, user, found))


@bp.get("/campaigns/<int:campaign_id>/live")
def campaign_live(campaign_id):
    """The changing part of the progress page, as HTML for the page's refresh script."""
    with transaction() as (session, user):
        found = campaign_or_404(session, user, campaign_id)
        html = render_template("admin/_progress_live.html", **progress_context(session, user, found))
    headers = {"X-Svar-Live": "1" if found.status in LIVE else "0"}
    return html, 200, headers


