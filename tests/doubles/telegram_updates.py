"""Update payloads shaped as the Bot API sends them (https://core.telegram.org/bots/api#update)."""
import itertools

DATE = 1791194400  # 2026-10-05, the tests' NOW
_update_ids = itertools.count(500000000)
_message_ids = itertools.count(1)
_query_ids = itertools.count(4382000)


def user(chat_id: int, language_code="nb") -> dict:
    found = {"id": chat_id, "is_bot": False, "first_name": "Amina", "last_name": "Test", "username": f"user{chat_id}"}
    if language_code:
        found["language_code"] = language_code
    return found


def private_chat(chat_id: int) -> dict:
    return {"id": chat_id, "first_name": "Amina", "last_name": "Test", "username": f"user{chat_id}", "type": "private"}


def group_chat(chat_id: int = -1001234567890) -> dict:
    return {"id": chat_id, "title": "Introduksjonsprogrammet", "type": "supergroup"}


def _message(chat_id, chat=None, language_code="nb", **content) -> dict:
    return {
        "message_id": next(_message_ids),
        "from": user(abs(chat_id) if chat else chat_id, language_code),
        "chat": chat or private_chat(chat_id),
        "date": DATE,
        **content,
    }


def update(update_id=None, **body) -> dict:
    return {"update_id": update_id if update_id is not None else next(_update_ids), **body}


def text(chat_id: int, value: str, update_id=None, chat=None, language_code="nb") -> dict:
    """A text message; a leading /command gets its bot_command entity, as Telegram marks it."""
    content = {"text": value}
    if value.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(value.split(" ")[0]), "type": "bot_command"}]
    return update(update_id, message=_message(chat_id, chat=chat, language_code=language_code, **content))


def start(chat_id: int, code: str | None = None, **kwargs) -> dict:
    """What a deep link t.me/<bot>?start=CODE sends: "/start CODE"."""
    return text(chat_id, f"/start {code}" if code else "/start", **kwargs)


def sticker(chat_id: int) -> dict:
    return update(message=_message(chat_id, sticker={
        "file_id": "CAACAgIAAxkBAAEBQ2Vl", "file_unique_id": "AgADbQADwDZPEw", "type": "regular",
        "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "\U0001f44d",
    }))


def photo(chat_id: int, caption: str | None = None) -> dict:
    sizes = [
        {"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQADq7Ex", "width": 90, "height": 67, "file_size": 1236},
        {"file_id": "AgACAgQAAxkBAAIC", "file_unique_id": "AQADq7Ey", "width": 1280, "height": 960, "file_size": 86154},
    ]
    content = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return update(message=_message(chat_id, **content))


def voice(chat_id: int) -> dict:
    return update(message=_message(chat_id, voice={
        "file_id": "AwACAgQAAxkBAAID", "file_unique_id": "AgADxAQ", "duration": 4, "mime_type": "audio/ogg", "file_size": 9120,
    }))


def document(chat_id: int) -> dict:
    return update(message=_message(chat_id, document={
        "file_id": "BQACAgQAAxkBAAIE", "file_unique_id": "AgADxQQ", "file_name": "svar.pdf", "mime_type": "application/pdf", "file_size": 40960,
    }))


def edited(chat_id: int, value: str) -> dict:
    message = _message(chat_id, text=value)
    message["edit_date"] = DATE + 30
    return update(edited_message=message)


def in_group(value: str) -> dict:
    return text(-1001234567890, value, chat=group_chat())


def from_bot(chat_id: int, value: str) -> dict:
    body = text(chat_id, value)
    body["message"]["from"] = {"id": 7000000002, "is_bot": True, "first_name": "Other bot", "username": "other_bot"}
    return body


def callback(chat_id: int, message: dict, data: str | None, update_id=None, language_code="nb") -> dict:
    """A press of an inline button on `message` (a message as sendMessage returned it)."""
    query = {
        "id": str(next(_query_ids)),
        "from": user(chat_id, language_code),
        "message": message,
        "chat_instance": "-8217440126482313337",
    }
    if data is not None:
        query["data"] = data
    return update(update_id, callback_query=query)


def button_data(message: dict, label_starts: str) -> str:
    """The callback_data of the button on `message` whose label starts with `label_starts`."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"].startswith(label_starts):
                return button["callback_data"]
    raise AssertionError(f"no button {label_starts!r}")


def inaccessible(message: dict) -> dict:
    """How Telegram shows a message too old to read in a callback: date 0, chat and id only."""
    return {"chat": message["chat"], "message_id": message["message_id"], "date": 0}
