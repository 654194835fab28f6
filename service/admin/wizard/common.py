"""What the launch wizard's steps share: their order, titles, a registry of handlers, the page frame."""
from flask import render_template

from ..i18n import _

# Step keys in order; their titles are translated when shown.
STEPS = ("survey", "units", "respondents", "languages", "reminders", "review")
HANDLERS = {}


def handles(step: str):
    """Register `handler(session, user, campaign)` as the GET/POST handler of `step`."""

    def register(handler):
        HANDLERS[step] = handler
        return handler

    return register


def step_titles() -> dict:
    return {
        "survey": _("Survey"),
        "units": _("Units and groups"),
        "respondents": _("Respondents"),
        "languages": _("Languages and channels"),
        "reminders": _("Reminders"),
        "review": _("Review and launch"),
    }


def render_step(step: str, campaign, **context):
    return render_template(
        f"admin/wizard_{step}.html", step=step, steps=STEPS, titles=step_titles(), campaign=campaign, nav="campaigns",
        **context,
    )
