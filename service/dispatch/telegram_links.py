"""Telegram deep links that start the bot with a one-time code: https://t.me/<bot>?start=<code>."""
from flows.codes import normalise_code


def deep_link(config, code: str) -> str | None:
    """The t.me link that opens the bot with `code`; None without TELEGRAM_BOT_USERNAME."""
    # A start parameter allows only A-Z, a-z, 0-9, _ and -: the code without its hyphen.
    return start_link(config, normalise_code(code))


def start_link(config, parameter: str) -> str | None:
    """The t.me link that opens the bot with this start parameter (a code, or a slot for one); None without a bot name."""
    username = (config.telegram_bot_username or "").strip().lstrip("@")
    if not username:
        return None
    return f"https://t.me/{username}?start={parameter}"
