"""A campaign's progress: the funnel per unit and group, the response rate over time, delivery failures."""
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask import render_template

from ..progress import snapshot as progress_snapshot
from ..accounts.access import restrict_progress
from ..accounts.access import unit_scope
from ..answer_side.releases import release_state
from ..progress.sampling import TARGET_ANSWERS
from . import bp
from . import charts
from . import timeline
from .campaigns import reader_title
from .guard import campaign_or_404
from .guard import transaction
from .i18n import current_language
from .i18n import short_day
from .wizard.pages import resume_wizard

# The page asks again this often while the campaign is open.
REFRESH_SECONDS = 15
LIVE = ("open", "scheduled")


def progress_context(session, user, campaign) -> dict:
    """Everything the progress page shows, cut to the units the user may see."""
    scope = unit_scope(session, user)
    zone = campaign.organisation.timezone or "Europe/Oslo"
    # Counted per unit (live, or by a worker for a large campaign), cut to the user's units here.
    snapshot = progress_snapshot.current(session, campaign)
    days = timeline.rates(campaign, snapshot.daily, scope, zone)
    markers = timeline.markers(campaign, snapshot.reminders, scope, zone)
    return {
        "campaign": campaign,
        "survey": reader_title(campaign),
        "progress": restrict_progress(snapshot.progress, scope),
        "as_of": _moment(snapshot.as_of, zone),
        "failures": timeline.failures(snapshot.failures, scope),
        "days": days,
        "chart": charts.rate_chart(days, markers, short_day),
        "markers": markers,
        "target": TARGET_ANSWERS,
        "zone": zone,
        "live": campaign.status in LIVE,
        "refresh_seconds": REFRESH_SECONDS,
        "coordinator": scope is not None,
        # Progress is live, results are not: when they will next change (A3).
        "release": release_state(session, campaign, session.info["runtime"].config.min_cell),
    }


def _moment(at, zone: str) -> str | None:
    """The time of day a snapshot was counted, with seconds, in the organisation's zone."""
    return None if at is None else format_time(at.astimezone(ZoneInfo(zone)), "medium", locale=current_language())


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id):
    """The progress page; it refreshes its numbers while the campaign is open."""
    with transaction() as (session, user):
        found = campaign_or_404(session, user, campaign_id)
        if found.status == "draft" and user.role == "admin":
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


