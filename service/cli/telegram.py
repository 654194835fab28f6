"""`svar telegram set-webhook` and `svar telegram poll`: the two ways updates reach Svar."""
import logging
import re
import time
import warnings

import click
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import Conflict
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from ..channels import channel_for
from ..channels.telegram import NAME
from ..models import utcnow
from ..infra.runtime import current
from ..channels.telegram_updates import handle_update
from ..channels.telegram_webhook import bp as webhook_bp

log = logging.getLogger(__name__)

# Only what Svar reads: messages and button presses. Less traffic, nothing surprising.
# Edited messages are asked for only to explain that edits are not read.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
# Telegram's rule for secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# After a database error the same updates are fetched again; the receipts make that safe.
BACKOFF_SECONDS = 5


@click.group()
def telegram():
    """The Telegram bot: webhook or long polling."""


def _channel():
    runtime = current()
    if not runtime.config.telegram_bot_token:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set")
    return runtime, channel_for(NAME, runtime)


@telegram.command("set-webhook")
@click.option("--drop-pending", is_flag=True, help="Forget updates Telegram holds for the bot.")
def set_webhook(drop_pending):
    """Point the bot at PUBLIC_BASE_URL/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET."""
    runtime, channel = _channel()
    secret = runtime.config.telegram_webhook_secret or ""
    if not SECRET.fullmatch(secret):
        raise click.ClickException("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    url = runtime.config.public_base_url.rstrip("/") + webhook_bp.url_prefix + "/telegram"
    if not url.startswith("https://"):
        click.echo("Telegram only calls HTTPS webhooks; PUBLIC_BASE_URL should start with https://", err=True)
    try:
        channel.run(
            channel.bot().set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop_pending)
        )
    except TelegramError as exc:
        raise click.ClickException(f"Telegram refused the webhook: {exc.message}") from None
    click.echo(f"Webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})")


@telegram.command()
@click.option("--timeout", default=30, show_default=True, help="Seconds each getUpdates waits for news.")
@click.option("--once", is_flag=True, help="One getUpdates round, then exit.")
def poll(timeout, once):
    """Development without a public URL: long-poll getUpdates and apply each update as the webhook would."""
    runtime, channel = _channel()
    try:
        runtime.redis.ping()
    except Exception as exc:
        raise click.ClickException(f"Redis is needed to queue the replies: {exc}") from None
    offset = None
    click.echo("Polling Telegram; Ctrl+C stops.", err=True)
    while True:
        try:
            params = {"offset": offset, "timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
            updates = raw_call(channel, "getUpdates", params, read_timeout=timeout + 10)
        except Conflict:
            raise click.ClickException("a webhook is set: delete it (or run set-webhook elsewhere) before polling") from None
        except TelegramError as exc:
            log.warning("getUpdates failed: %s", type(exc).__name__)
            updates = []
            time.sleep(0 if once else BACKOFF_SECONDS)
        for data in updates:
            try:
                apply(runtime, channel, data)
            except SQLAlchemyError as exc:
                log.error("Telegram update not applied: %s", type(exc).__name__)
                if once:
                    raise click.ClickException("the database failed; the update will come again") from None
                time.sleep(BACKOFF_SECONDS)
                break
            if isinstance(data.get("update_id"), int):
                # Confirmed only once applied: Telegram forgets updates below the offset.
                offset = data["update_id"] + 1
        if once:
            if offset is not None:
                # Telegram forgets updates only when asked with a higher offset.
                raw_call(channel, "getUpdates", {"offset": offset, "timeout": 0, "limit": 1})
            return


def apply(runtime, channel, data: dict):
    """One polled update through the webhook's path; the edit it asks for is made here."""
    try:
        call = handle_update(runtime, data, utcnow())
    except ValueError:
        log.warning("skipped an update that is not one")
        return
    if call is None:
        return
    params = dict(call)
    method = params.pop("method")
    try:
        raw_call(channel, method, params)
    except TelegramError as exc:
        # Cosmetic: the answer is recorded whether or not the question shows it.
        log.warning("%s failed: %s", method, type(exc).__name__)


def raw_call(channel, method: str, params: dict, **timeouts):
    """A Bot API call with plain JSON in and out: updates stay the dicts the webhook gets."""
    with warnings.catch_warnings():
        # PTB suggests its typed methods; plain dicts are the point here.
        warnings.simplefilter("ignore", PTBUserWarning)
        return channel.run(channel.bot().do_api_request(method, api_kwargs=params, **timeouts))
