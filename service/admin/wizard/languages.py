"""Wizard step 4: the languages offered, the default language and the channels, with the SMS preview."""
from flask import redirect
from flask import request
from flask import url_for
from sqlalchemy import select

from flows.languages import native_name

from ...dispatch.campaigns import CHANNELS
from ...dispatch.channel_setup import channel_problems
from ...models import Invitation
from ...dispatch.preview import campaign_preview
from ...surveys import survey_of
from ..forms import Form
from ..guard import runtime
from ..i18n import _
from .common import handles
from .common import render_step


def _in_use(session, campaign, column) -> set:
    return set(session.scalars(select(column).where(Invitation.campaign_id == campaign.id).distinct()))


def _page(session, campaign, form_values, errors, status=200):
    survey = survey_of(campaign.survey_version)
    return render_step(
        "languages", campaign,
        form=form_values, errors=errors,
        survey_languages=[(code, native_name(code)) for code in survey.languages],
        channels=CHANNELS,
        preview=campaign_preview(session, campaign),
        problems=channel_problems(runtime().config, campaign.channels or []),
    ), status


@handles("languages")
def languages_step(session, user, campaign):
    survey = survey_of(campaign.survey_version)
    if request.method == "GET":
        values = {
            "languages": list(campaign.languages or survey.languages),
            "default_language": campaign.default_language,
            "channels": list(campaign.channels or []),
        }
        return _page(session, campaign, values, {})
    form = Form(request.form)
    languages = form.choices("languages", survey.languages)
    default = form.choice("default_language", survey.languages)
    channels = form.choices("channels", CHANNELS)
    used_languages = _in_use(session, campaign, Invitation.language)
    used_channels = _in_use(session, campaign, Invitation.channel)
    if not languages:
        form.fail("languages", _("Choose at least one language."))
    elif not used_languages <= set(languages):
        form.fail("languages", _("Respondents were added in these languages, so they must stay: %(codes)s",
                                 codes=", ".join(sorted(used_languages - set(languages)))))
    if default and languages and default not in languages:
        form.fail("default_language", _("The default language must be one of the languages offered."))
    if not channels:
        form.fail("channels", _("Choose at least one channel."))
    elif not used_channels <= set(channels):
        form.fail("channels", _("Respondents were added for these channels, so they must stay: %(names)s",
                                names=", ".join(sorted(used_channels - set(channels)))))
    if not form.ok:
        return _page(session, campaign, form.values, form.errors, 400)
    campaign.languages = [code for code in survey.languages if code in languages]
    campaign.default_language = default
    campaign.channels = [channel for channel in CHANNELS if channel in channels]
    target = "review" if request.form.get("next") == "review" else "reminders"
    if request.form.get("stay"):
        return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step="languages"))
    return redirect(url_for("admin.wizard_step", campaign_id=campaign.id, step=target))
