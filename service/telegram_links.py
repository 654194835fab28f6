"""Telegram deep links that start the bot with a one-time code: https://t.me/<bot>?start=<code>."""
from flows.codes import normalise_code


def deep_link(config, code: str) -> str | None:
    """The t.me link that opens the bot with `code`; None without TELEGRAM_BOT_USERNAME."""
    username = (config.telegram_bot_username or "").strip().lstrip("@")
    if not username:
        return None
    # A start parameter allows only A-Z, a-z, 0-9, _ and -: the code without its hyphen.
    return f"https://t.me/{username}?start={normalise_code(code)}"
