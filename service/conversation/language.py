"""The language a new conversation starts in: invitation, Telegram's language_code, or the menu.

- An invitation with a language speaks it (an unknown code falls back to the
  campaign's default language).
- An invitation whose language is "ask" (paper codes printed for anyone,
  codes typed into Telegram) takes the chat app's language when the campaign
  offers it, and otherwise shows the language menu at the first message.
- The respondent can open the menu at any time with SPRÅK, LANGUAGE, ... or
  /language; answers given so far are kept.
"""
from flows.i18n import shipped_languages
from flows.languages import ASK
from flows.languages import resolve
from flows.model import MENU_DUE

from ..models import Invitation
from ..surveys import offered_languages


def starting_state(invitation: Invitation, hint: str | None) -> dict:
    """State fields (language, language_menu, offered) for a conversation on `invitation`."""
    campaign = invitation.campaign
    offered = offered_languages(campaign)
    default = resolve(campaign.default_language, offered, offered[0])
    if invitation.language and invitation.language != ASK:
        return {"language": resolve(invitation.language, offered, default), "offered": offered}
    from_app = resolve(hint, offered, "")
    if from_app:
        return {"language": from_app, "offered": offered}
    if len(offered) < 2:
        return {"language": default, "offered": offered}
    return {"language": default, "language_menu": MENU_DUE, "offered": offered}


def intake_language(hint: str | None, default: str) -> str:
    """The language to answer a sender with no conversation in: the app's, else the deployment's."""
    shipped = shipped_languages()
    return resolve(hint, shipped, resolve(default, shipped, "en"))
