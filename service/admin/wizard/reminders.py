"""Wizard step 5: the reminder policy (issue 6's rules), with the sending window."""
from dataclasses import replace

from flask import redirect
from flask import request
from flask import url_for

from ...models import utcnow
from ...reminders.quiet_hours import Window
from ...reminders.quiet_hours import WindowError
from ...reminders.quiet_hours import parse_time
from ...reminders.policy import DEFAULT
from ...reminders.policy import MAX_LAST_CHANCE_DAYS
from ...reminders.policy import MAX_NUDGE_HOURS
from ...reminders.policy import MAX_OFFSET_DAYS
from ...reminders.policy import MAX_REMINDERS
from ...reminders.policy import PolicyError
from ...reminders.policy import policy_of
from ...reminders.policy import save_policy
from ..forms import Form
from ..i18n import _
from .common import handles
from .common import render_step

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)


def weekday_names() -> list[tuple[int, str]]:
    names = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
    return list(zip(WEEKDAYS, names))


def _values(policy) -> dict:
    return {
        "offsets_days": ", ".join(str(day) for day in policy.offsets_days),
        "last_chance_days": "" if policy.last_chance_days is None else str(policy.last_chance_days),
        "nudge_after_hours": "" if policy.nudge_after_hours is None else str(policy.nudge_after_hours),
        "window_start": policy.window.start.strftime("%H:%M"),
        "window_end": policy.window.end.strftime("%H:%M"),
        "weekdays": [str(day) for day in sorted(policy.window.weekdays)],
    }


def _page(campaign, values, errors, problems=(), status=200):
    limits = {"reminders": MAX_REMINDERS, "offset": MAX_OFFSET_DAYS, "last_chance": MAX_LAST_CHANCE_DAYS, "nudge": MAX_NUDGE_HOURS}
    return render_step(
        "reminders", campaign, form=values, errors=errors, problems=list(problems), weekdays=weekday_names(), limits=limits,
        defaults=_values(DEFAULT),
    ), status


@handles("reminders")
def reminders_step(session, user, campaign):
    if request.method == "GET":
        return _page(campaign, _values(policy_of(session, campaign)), {})
    form = Form(request.form)
    raw_offsets = form.text("offsets_days", required=False) or ""
    offsets = []
    for part in raw_offsets.replace(";", ",").replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit():
            form.fail("offsets_days", _("Write whole days separated by commas, e.g. 3, 7, 10."))
            break
        offsets.append(int(part))
    last_chance = form.integer("last_chance_days", 1, MAX_LAST_CHANCE_DAYS, required=False)
    nudge = form.integer("nudge_after_hours", 1, MAX_NUDGE_HOURS, required=False)
    weekdays = {int(day) for day in form.choices("weekdays", [str(day) for day in WEEKDAYS])}
    window = None
    try:
        start = parse_time(form.text("window_start") or "", "start")
        end = parse_time(form.text("window_end") or "", "end")
        window = Window(start, end, frozenset(weekdays))
    except WindowError:
        form.fail("window_start", _("Write times as HH:MM, e.g. 09:00 and 20:00."))
    if not weekdays:
        form.fail("weekdays", _("Choose at least one day on which reminders may go out."))
    if not form.ok:
        return _page(campaign, form.values, form.errors, status=400)
    policy = replace(
        DEFAULT, offsets_days=tuple(sorted(offsets)), last_chance_days=last_chance, nudge_after_hours=nudge, window=window,
    )
    try:
        save_policy(session, campaign, policy, utcnow())
    except PolicyError as error:
        # The policy's own checks (reminders after closing, a window too short) are shown as they are.
        return _page(campaign, form.values, {"form": _("The reminder plan cannot be used:")}, error.problems, 400)
    return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step="review"))
