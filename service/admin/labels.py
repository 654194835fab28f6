"""Names of stored codes (roles, statuses, audit actions, delivery errors) in the reader's language."""
from .i18n import _


def role_name(role: str) -> str:
    return {"admin": _("Administrator"), "coordinator": _("Coordinator")}.get(role, role)


def status_name(status: str) -> str:
    return {
        "draft": _("Draft"),
        "scheduled": _("Scheduled"),
        "open": _("Open"),
        "closed": _("Closed"),
    }.get(status, status)


def channel_name(channel: str) -> str:
    return {"sms": _("SMS"), "telegram": _("Telegram"), "paper": _("Paper codes")}.get(channel, channel)


def action_name(action: str) -> str:
    return {
        "launched": _("Launched a campaign"),
        "closed": _("Closed a campaign"),
        "release_requested": _("Asked for an interim release of results"),
        "exported": _("Downloaded an export"),
        "user_created": _("Created a user"),
        "user_changed": _("Changed a user"),
        "login": _("Logged in"),
        "login_failed": _("Failed login"),
        "login_locked": _("Login blocked after failures"),
        "refused": _("Refused access"),
        "sessions_ended": _("Logged a user out everywhere"),
        "token_created": _("Created an API token"),
        "token_revoked": _("Revoked an API token"),
        "campaign_created": _("Created a campaign"),
        "unit_created": _("Created a unit"),
        "group_created": _("Created a group"),
        "respondents_added": _("Added respondents"),
        "codes_generated": _("Generated paper codes"),
        "campaign_changed": _("Changed a campaign"),
    }.get(action, action)


def failure_reason(code: str) -> str:
    """What a delivery error code means, for a coordinator deciding what to do; Twilio's codes and ours."""
    reasons = {
        "30001": _("Too many messages waiting at Twilio; they expired before sending"),
        "30002": _("The Twilio account is suspended"),
        "30003": _("Phone switched off or out of reach"),
        "30004": _("Blocked by the recipient or the operator"),
        "30005": _("Number unknown or no longer in use"),
        "30006": _("Landline, or an operator that cannot take SMS"),
        "30007": _("Filtered by the operator as unwanted"),
        "30008": _("Unknown error at the operator"),
        "21211": _("Not a valid phone number"),
        "21408": _("Sending to this country is not enabled"),
        "21610": _("The recipient has unsubscribed (STOP)"),
        "21612": _("Twilio cannot reach this number from our sender"),
        "21614": _("Not a mobile number"),
        # Telegram's answers (HTTP statuses) and the send worker's own codes.
        "403": _("The recipient blocked the bot or left the chat"),
        "400": _("Refused by the provider as malformed"),
        "401": _("The provider rejected our credentials"),
        "429": _("The provider was overloaded; given up after retries"),
        "chat_id": _("Not a valid Telegram chat"),
        "attempts": _("Given up after repeated temporary failures"),
        "undelivered": _("Not delivered to the phone; the operator gave no reason"),
        "opted_out": _("The recipient had opted out before sending"),
        "campaign_closed": _("Not sent: the campaign closed first"),
        "address": _("Phone number missing (erased or unreadable)"),
        "body": _("Nothing to send"),
        "code": _("Not sent: the code was already erased"),
        "unknown": _("No reason given"),
    }
    return reasons.get(code, _("Provider error %(code)s", code=code))
