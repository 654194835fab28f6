"""Telegram: updates in through a secret-token webhook (or polling), the Bot API out through PTB's Bot.

Updates are read with `Update.de_json` only; no `Application` runs here,
because the runner's conversation lock, not an update queue, keeps one
update at a time per chat.
"""
import asyncio
import hmac
import logging
import os
import warnings
from dataclasses import dataclass
from datetime import timedelta

from redis.exceptions import RedisError
from telegram import Bot
from telegram import InlineKeyboardButton
from telegram import InlineKeyboardMarkup
from telegram import Update
from telegram.error import BadRequest
from telegram.error import ChatMigrated
from telegram.error import Forbidden
from telegram.error import InvalidToken
from telegram.error import NetworkError
from telegram.error import RetryAfter
from telegram.error import TelegramError
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from flows.chat import COMMANDS

from ..conversation.inbound import InboundMessage
from .base import OutgoingMessage
from .base import PermanentFailure
from .base import RecipientOptedOut
from .base import TemporaryFailure
from .telegram_pacing import Pacer

log = logging.getLogger(__name__)
# PTB logs every call's parameters at DEBUG (chat ids, texts, chosen answers)
# and httpx logs each URL at INFO, and Bot API URLs hold the bot token (A4).
for _noisy in ("telegram", "httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

NAME = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TELEGRAM_API = "https://api.telegram.org"
# Telegram's limit for callback_data, in bytes.
CALLBACK_DATA_MAX = 64
# Labels this short share a row: a scale's middle digits sit side by side.
SHORT_LABEL = 3
ROW_WIDTH = 6
# One worker sends one message at a time; a few connections cover edits and retries.
POOL_SIZE = 4
TIMEOUT = 10.0


@dataclass(frozen=True)
class Press:
    """A pressed inline button, with what the webhook needs to edit the question message."""

    callback_query_id: str
    chat_id: int
    message_id: int | None
    question_text: str | None  # the question as Telegram shows it; None if too old to read
    label: str | None  # the pressed button's label


@dataclass(frozen=True)
class Received:
    """One update as Svar reads it: a message for the runner, maybe a button press, or nothing."""

    message: InboundMessage | None = None
    press: Press | None = None


def callback_data(question_id: str, option: int) -> str | None:
    """What a button sends back: the question and the option's position; None if it would not fit."""
    data = f"{question_id}:{option}"
    return data if len(data.encode()) <= CALLBACK_DATA_MAX else None


def read_callback_data(data: str | None) -> tuple[str, int] | None:
    question_id, _, option = (data or "").rpartition(":")
    if not question_id or not option.isdigit():
        return None
    return question_id, int(option)


def keyboard(question_id: str | None, options) -> InlineKeyboardMarkup | None:
    """Inline buttons for a question's options, short ones side by side; None if there are none."""
    if not question_id or not options:
        return None
    rows, short = [], []
    for position, option in enumerate(options):
        data = callback_data(question_id, position)
        if data is None:
            # An id too long for Telegram: typed answers still work.
            return None
        button = InlineKeyboardButton(option["label"], callback_data=data)
        if len(option["label"]) <= SHORT_LABEL:
            short.append(button)
            if len(short) == ROW_WIDTH:
                rows.append(short)
                short = []
            continue
        if short:
            rows.append(short)
            short = []
        rows.append([button])
    if short:
        rows.append(short)
    return InlineKeyboardMarkup(rows)


def read_update(data: dict) -> tuple[int, Received]:
    """The update_id and what the update means; ValueError if it is no update at all."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError("no update_id")
    try:
        update = Update.de_json(dict(data), None)
        return update.update_id, _received(update)
    except (KeyError, TypeError, ValueError, AttributeError):
        # PTB reads leniently: a malformed part (a chat without a type) shows up only when used.
        raise ValueError("not a Telegram update") from None


def _received(update: Update) -> Received:
    """What a parsed update means for Svar."""
    external_id = str(update.update_id)
    user = update.effective_user
    if user is not None and user.is_bot:
        return Received()
    hint = _language(user.language_code if user else None)
    if update.callback_query is not None:
        return Received(*_press(update.callback_query, external_id, hint))
    message = update.message or update.edited_message
    if message is None or message.chat.type != "private":
        # Groups, channels and update types we never asked for.
        return Received()
    address = str(message.chat.id)

    def inbound(**fields):
        fields.setdefault("text", "")
        return InboundMessage(channel=NAME, external_id=external_id, address=address, language_hint=hint, **fields)

    if update.edited_message is not None:
        return Received(inbound(unreadable="edited"))
    if message.text is None:
        if message.effective_attachment is None:
            # Service messages (a pinned message, a timer): nothing was said.
            return Received()
        return Received(inbound(unreadable="media"))
    return Received(_text_or_command(message.text, inbound))


def _text_or_command(text, inbound) -> InboundMessage:
    if not text.startswith("/"):
        return inbound(text=text)
    command, _, argument = text[1:].partition(" ")
    command = command.split("@", 1)[0].lower()
    argument = argument.strip()
    if command == "start":
        # /start CODE is the deep link t.me/<bot>?start=CODE; /start alone asks for a code.
        return inbound(text=argument, code=argument) if argument else inbound(text="?")
    if command in COMMANDS:
        return inbound(text=COMMANDS[command])
    return inbound(unreadable="command")


def _press(query, external_id, hint):
    message = query.message
    if message is None or message.chat.type != "private":
        # Inline-mode buttons and buttons in groups: not ours to answer.
        return None, None
    address = str(message.chat.id)
    parsed = read_callback_data(query.data)
    accessible = message.is_accessible
    label = _label(message, query.data) if accessible else None
    press = Press(
        callback_query_id=query.id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        question_text=message.text if accessible else None,
        label=label,
    )
    if parsed is None:
        return None, press
    question_id, option = parsed
    inbound = InboundMessage(
        channel=NAME,
        external_id=external_id,
        address=address,
        text="",
        language_hint=hint,
        question_id=question_id,
        option=option,
    )
    return inbound, press


def _label(message, data):
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _language(code: str | None) -> str | None:
    # Telegram gives an IETF tag ("nb", "pt-br"); the runner speaks in primary subtags.
    return code.split("-", 1)[0].lower() if code else None


class TelegramChannel:
    """The "telegram" channel."""

    name = NAME

    def __init__(self, runtime):
        self.runtime = runtime
        self.config = runtime.config
        self.pacer = Pacer(runtime.redis, lambda chat: runtime.vault.address_hash(NAME, chat)[:32]) if runtime else None
        self._pid = None
        self._loop = None
        self._bot = None

    # --- inbound ------------------------------------------------------------

    def verify(self, request) -> bool:
        """The secret token Telegram echoes from setWebhook, compared in constant time."""
        expected = self.config.telegram_webhook_secret
        given = request.headers.get(SECRET_HEADER)
        if not expected or given is None:
            return False
        return hmac.compare_digest(given.encode(), expected.encode())

    def parse(self, request) -> list[InboundMessage]:
        """The respondent message in a verified webhook request; ValueError if malformed."""
        data = request.get_json(silent=True)
        _, received = read_update(data)
        return [received.message] if received.message else []

    # --- outbound -----------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        """Send a message (its id back) or, for kind "ack", answer a button press."""
        if message.kind == "ack":
            self._call(self.bot().answer_callback_query(message.text))
            return ""
        chat_id = chat_id_of(message.address)
        self.pacer.wait(message.address)
        markup = keyboard(message.question_id, message.options)
        try:
            sent = self._call(self.bot().send_message(chat_id=chat_id, text=message.text, reply_markup=markup))
        except TemporaryFailure as failure:
            if failure.retry_after:
                self.pacer.hold(message.address, failure.retry_after)
            raise
        try:
            self.pacer.sent(message.address)
        except RedisError as exc:
            # Telegram took the message: a stalled Redis must not turn that into a failure the worker
            # would send again. The chat's second was taken before the send; it only starts earlier.
            log.warning("telegram: sent, but the pace was not moved on (%s)", type(exc).__name__)
        return str(sent.message_id)

    def bot(self) -> Bot:
        """This process's Bot; built again after a fork, whose copy of the loop belongs to the parent."""
        if self._pid != os.getpid():
            if not self.config.telegram_bot_token:
                raise TemporaryFailure("TELEGRAM_BOT_TOKEN is not set")
            self._loop = asyncio.new_event_loop()
            request = HTTPXRequest(connection_pool_size=POOL_SIZE, read_timeout=TIMEOUT, write_timeout=TIMEOUT, connect_timeout=TIMEOUT)
            self._bot = Bot(self.config.telegram_bot_token, base_url=bot_base_url(self.config), request=request)
            self._pid = os.getpid()
        return self._bot

    def run(self, coroutine):
        """Run one Bot API call on this process's loop, so its HTTP connections are reused."""
        self.bot()
        return self._loop.run_until_complete(coroutine)

    def _call(self, coroutine):
        try:
            return self.run(coroutine)
        except RetryAfter as exc:
            raise TemporaryFailure("Telegram flood control", "429", retry_after=_retry_after(exc)) from None
        except Forbidden as exc:
            if "blocked" in str(exc).lower():
                raise RecipientOptedOut("bot blocked by the user", "403") from None
            raise PermanentFailure("Telegram refused the chat", "403") from None
        except InvalidToken:
            # Our token, not the message, is wrong: keep it for when it is fixed.
            log.error("Telegram rejected the bot token")
            raise TemporaryFailure("Telegram rejected the token", "401") from None
        except (BadRequest, ChatMigrated) as exc:
            raise PermanentFailure(f"Telegram refused the message: {_reason(exc)}", "400") from None
        except NetworkError as exc:
            # Timeouts and 5xx; a rare duplicate beats a lost question.
            raise TemporaryFailure(f"Telegram unreachable: {type(exc).__name__}") from None
        except TelegramError as exc:
            raise TemporaryFailure(f"Telegram error: {type(exc).__name__}") from None


def chat_id_of(address: str) -> int:
    """The numeric chat id of an outbox address; a row that holds anything else can never be sent."""
    try:
        return int(address)
    except (TypeError, ValueError):
        raise PermanentFailure("not a Telegram chat id", "chat_id") from None


def bot_base_url(config) -> str:
    """PTB's base_url: the API root plus "/bot", to which PTB appends the token."""
    root = (config.telegram_api_base_url or TELEGRAM_API).rstrip("/")
    return f"{root}/bot"


def _retry_after(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta; either way it is seconds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _reason(exc) -> str:
    # Telegram's descriptions name the problem ("chat not found"), never the chat.
    return str(exc.message)[:200]
