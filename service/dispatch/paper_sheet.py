"""The printable sheet of paper codes: one card per code, in the respondents' language."""
from dataclasses import dataclass

import phonenumbers
from babel import Locale
from babel import UnknownLocaleError
from flask import render_template
from markupsafe import Markup

from flows.i18n import messages
from flows.languages import ASK

from .qr import qr_svg
from ..surveys import survey_of
from ..surveys import survey_title
from .telegram_links import deep_link


@dataclass(frozen=True)
class Card:
    code: str
    link: str | None
    qr: Markup | None


def sms_number(config) -> str | None:
    """The number respondents text, written for people to read ("+47 594 40 000"); None without one."""
    if not config.twilio_from:
        return None
    try:
        number = phonenumbers.parse(config.twilio_from, None)
    except phonenumbers.NumberParseException:
        return config.twilio_from
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def text_direction(language: str) -> str:
    """"rtl" for Arabic, Persian and the like; "ltr" otherwise."""
    try:
        order = Locale.parse(language.replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def render_sheet(runtime, campaign, unit, group, language: str, codes: list[str]) -> str:
    """The HTML page to print: one card per code with its QR code and how to answer."""
    if language == ASK:
        # The respondent picks their language after the code; the card speaks the campaign's.
        language = campaign.default_language
    m = messages(language)
    number = sms_number(runtime.config)
    cards = []
    for code in codes:
        link = deep_link(runtime.config, code)
        cards.append(Card(code=code, link=link, qr=Markup(qr_svg(link)) if link else None))
    title = survey_title(survey_of(campaign.survey_version), language, campaign.default_language)
    texts = {
        "page_title": m.gettext("One-time codes: %(unit)s", unit=unit.name),
        "heading": m.gettext("%(organisation)s: %(title)s", organisation=campaign.organisation.name, title=title),
        "notice": m.gettext(
            "These codes are shown only once and are not stored. Print this page now, "
            "cut along the lines and give one card to each respondent."
        ),
        "your_code": m.gettext("Your one-time code"),
        "scan": m.gettext("Scan the QR code to answer in Telegram."),
        "sms": m.gettext("Or send the code by SMS to %(number)s.", number=number) if number else None,
        "sms_only": m.gettext("Send the code by SMS to %(number)s to answer.", number=number) if number else None,
        "anonymous": m.gettext("Your answers are anonymous. The code can be used once."),
    }
    return render_template(
        "paper_codes.html",
        language=language,
        direction=text_direction(language),
        texts=texts,
        cards=cards,
        unit=unit.name,
        group=group.name if group is not None else None,
        closes_at=campaign.closes_at,
    )
