"""Whether the deployment is set up for a campaign's channels, said before anything is sent."""


def sms_configured(config) -> bool:
    return bool(config.twilio_account_sid and config.twilio_auth_token and (config.twilio_from or config.twilio_messaging_service_sid))


def telegram_configured(config) -> bool:
    return bool(config.telegram_bot_token)


def channel_problems(config, channels: list[str], telegram_by_sms: bool = False) -> list[str]:
    """What is missing for `channels` (sms, telegram, paper); empty when all can work.

    `telegram_by_sms`: some Telegram respondents were uploaded with a phone
    number; a bot cannot write first, so they are invited by SMS with a link.
    """
    problems = []
    if telegram_by_sms and "sms" not in channels and not sms_configured(config):
        problems.append("Telegram respondents with a phone number are invited by SMS, which is not set up (TWILIO_* settings)")
    if "sms" in channels and not sms_configured(config):
        problems.append(
            "SMS is not set up: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM "
            "(or TWILIO_MESSAGING_SERVICE_SID) are needed"
        )
    if "telegram" in channels:
        if not telegram_configured(config):
            problems.append("Telegram is not set up: TELEGRAM_BOT_TOKEN is needed")
        if not config.telegram_bot_username:
            problems.append("Telegram invitations need TELEGRAM_BOT_USERNAME for their links")
    if "paper" in channels and not (sms_configured(config) or telegram_configured(config) or config.simulator):
        problems.append("paper codes need a channel to answer on: set up SMS (TWILIO_*) or Telegram (TELEGRAM_BOT_TOKEN)")
    return problems
