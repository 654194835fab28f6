"""A loopback stand-in for the Telegram Bot API (https://core.telegram.org/bots/api), scriptable to fail like it."""
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs

PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Svar", "username": "svar_test_bot"}
# What the double answers for each scripted failure: HTTP status, description, parameters.
FAILURES = {
    "429": (429, "Too Many Requests: retry after %(retry_after)s", True),
    "blocked": (403, "Forbidden: bot was blocked by the user", False),
    "deactivated": (403, "Forbidden: user is deactivated", False),
    "chat_not_found": (400, "Bad Request: chat not found", False),
    "500": (500, "Internal Server Error", False),
}
# Fields Telegram sends as JSON inside form-encoded requests.
JSON_FIELDS = {"reply_markup", "allowed_updates", "link_preview_options", "entities"}
LONG_POLL_CAP = 2.0


class TelegramApiDouble:
    """POST /bot<token>/<method> on 127.0.0.1, recording every call, answering as Telegram does."""

    def __init__(self, token: str, port: int = 0):
        self.token = token
        self.calls = []  # (method, params) in arrival order
        self.sent = []  # messages as returned by sendMessage
        self.webhook = None  # the last setWebhook parameters
        self.blocked = set()  # chat ids that blocked the bot
        self._updates = []
        self._script = []
        self._message_ids = itertools.count(100)
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="telegram-double", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        with self._lock:
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, kind: str, count: int = 1, retry_after: int = 3, method: str = "sendMessage"):
        """The next `count` calls of `method` answer `kind`: "429", "blocked", "deactivated", "chat_not_found", "500"."""
        if kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}")
        with self._lock:
            self._script.extend([(method, kind, retry_after)] * count)

    def push_update(self, update: dict):
        """Queue an update for getUpdates."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()

    def calls_of(self, method: str) -> list[dict]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def sent_to(self, chat_id) -> list[dict]:
        with self._lock:
            return [m for m in self.sent if m["chat"]["id"] == int(chat_id)]

    # --- the API -------------------------------------------------------------

    def call(self, method: str, params: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls.append((method, params))
            failure = self._scripted(method)
        if failure:
            return failure
        chat_id = params.get("chat_id")
        if method in ("sendMessage", "editMessageText") and chat_id is not None and int(chat_id) in self.blocked:
            return _error(403, FAILURES["blocked"][1])
        handler = getattr(self, "_" + method, None)
        if handler is None:
            return _error(404, "Not Found")
        return handler(params)

    def _scripted(self, method):
        for position, (scripted_method, kind, retry_after) in enumerate(self._script):
            if scripted_method == method:
                del self._script[position]
                status, description, with_retry = FAILURES[kind]
                parameters = {"retry_after": retry_after} if with_retry else None
                return _error(status, description % {"retry_after": retry_after}, parameters)
        return None

    def _getMe(self, params):
        return _ok({**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False})

    def _sendMessage(self, params):
        text = params.get("text") or ""
        if "chat_id" not in params or not text.strip():
            return _error(400, "Bad Request: message text is empty" if "chat_id" in params else "Bad Request: chat_id is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        message = {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": {"id": int(params["chat_id"]), "first_name": "Respondent", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            message["sent_at"] = time.monotonic()
            self.sent.append(message)
        return _ok({k: v for k, v in message.items() if k != "sent_at"})

    def _editMessageText(self, params):
        found = self._message(params)
        if found is None:
            return _error(400, "Bad Request: message to edit not found")
        if params.get("text") == found["text"] and params.get("reply_markup") == found.get("reply_markup"):
            return _error(400, "Bad Request: message is not modified")
        found["text"] = params["text"]
        found.pop("reply_markup", None)
        if params.get("reply_markup"):
            found["reply_markup"] = params["reply_markup"]
        return _ok({k: v for k, v in found.items() if k != "sent_at"})

    def _editMessageReplyMarkup(self, params):
        found = self._message(params)
        if found is None:
            return _error(400, "Bad Request: message to edit not found")
        found.pop("reply_markup", None)
        if params.get("reply_markup"):
            found["reply_markup"] = params["reply_markup"]
        return _ok({k: v for k, v in found.items() if k != "sent_at"})

    def _answerCallbackQuery(self, params):
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return _ok(True)

    def _setWebhook(self, params):
        with self._lock:
            self.webhook = params if params.get("url") else None
        return _ok(True, description="Webhook was set" if params.get("url") else "Webhook was deleted")

    def _deleteWebhook(self, params):
        with self._lock:
            self.webhook = None
        return _ok(True, description="Webhook was deleted")

    def _getWebhookInfo(self, params):
        with self._lock:
            hook = self.webhook or {}
            pending = len(self._updates)
        return _ok({"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": pending})

    def _getUpdates(self, params):
        if self.webhook:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = time.monotonic() + timeout
        with self._lock:
            # An offset confirms every update below it: Telegram forgets them.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            limit = int(params.get("limit") or 100)
            return _ok(list(self._updates[:limit]))

    def _message(self, params):
        with self._lock:
            for message in self.sent:
                if message["chat"]["id"] == int(params.get("chat_id", 0)) and message["message_id"] == int(params.get("message_id", 0)):
                    return message
        return None


def _ok(result, description=None):
    body = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return 200, body


def _error(status, description, parameters=None):
    body = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def _params(handler) -> dict:
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    kind = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
    if kind == "application/json":
        return json.loads(raw or b"{}")
    params = {key: values[-1] for key, values in parse_qs(raw.decode(), keep_blank_values=True).items()}
    for key in JSON_FIELDS & params.keys():
        params[key] = json.loads(params[key])
    return params


def _handler_for(double: TelegramApiDouble):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle each answer waits for a delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def do_POST(self):
            self._answer()

        def do_GET(self):
            self._answer()

        def _answer(self):
            match = PATH.match(self.path.split("?")[0])
            try:
                params = _params(self)
            except (ValueError, json.JSONDecodeError):
                status, body = _error(400, "Bad Request: can't parse request")
            else:
                if match is None:
                    status, body = _error(404, "Not Found")
                elif match["token"] != double.token:
                    status, body = _error(401, "Unauthorized")
                else:
                    status, body = double.call(match["method"], params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler
