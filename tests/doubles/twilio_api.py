"""A loopback stand-in for Twilio's Messages API, scriptable to fail like the real one."""
import argparse
import base64
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from datetime import timezone
from email.utils import formatdate
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages\.json$")
DOCS = "https://www.twilio.com/docs/errors/"
# What the double answers for each scripted failure: HTTP status, Twilio code, message.
FAILURES = {
    "429": (429, 20429, "Too Many Requests"),
    "500": (500, 20500, "Internal Server Error"),
    "503": (503, 20503, "Service Unavailable"),
    "21610": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "21211": (400, 21211, "Invalid 'To' Phone Number"),
}
# Requests that take hang_seconds: "hang" then accepts the message (Twilio was slow),
# "lost-answer" accepts it at once but answers late (the answer is lost to a client
# that gave up or died), "drop" closes the connection without accepting anything.
STALLS = ("hang", "lost-answer", "drop")


class TwilioApiDouble:
    """POST /2010-04-01/Accounts/{sid}/Messages.json on 127.0.0.1, recording what it is sent."""

    def __init__(self, account_sid=None, auth_token=None, port=0, hang_seconds=5.0, deliver_after=None):
        # Without credentials the double takes any Basic auth (standalone use).
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.hang_seconds = hang_seconds
        # Seconds after which each message reports "delivered" by itself (needs auth_token to sign).
        self.deliver_after = deliver_after
        self.messages = []
        self.requests = 0
        self.lookups = 0  # GET Messages.json: lookups of what was sent
        # Lookups still to answer 503 (Twilio's API down while its sending goes on).
        self.failing_lookups = 0
        self._script = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval so stop() returns at once between tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-double", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, kind: str, count: int = 1, retry_after: int | None = None):
        """The next `count` creates answer `kind`: "429", "500", "503", "21610", "21211", "ok", or one of STALLS."""
        if kind != "ok" and kind not in STALLS and kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}")
        with self._lock:
            self._script.extend([(kind, retry_after)] * count)

    def reset(self):
        with self._lock:
            self.messages.clear()
            self._script.clear()
            self.requests = 0
        self.lookups = 0  # GET Messages.json: lookups of what was sent

    def status_callback(self, sid: str, status: str = "delivered", error_code: str | None = None, auth_token=None):
        """POST a signed status callback for a recorded message, as Twilio does; returns the HTTP status."""
        message = next(m for m in self.messages if m["sid"] == sid)
        fields = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": message["account_sid"],
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message["to"],
            "From": message["from"] or "",
            "ApiVersion": "2010-04-01",
        }
        if message["messaging_service_sid"]:
            fields["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code:
            fields["ErrorCode"] = str(error_code)
        return post_signed(message["status_callback"], fields, auth_token or self.auth_token)

    # --- called by the handler ------------------------------------------------

    def _next_failure(self):
        with self._lock:
            self.requests += 1
            return self._script.pop(0) if self._script else None

    def _authorised(self, account, header) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        if self.auth_token is None:
            return user == account
        return user == account == self.account_sid and password == self.auth_token

    def _create(self, account, form):
        """Twilio's answer to a create: (status, body, headers)."""
        to = form.get("To")
        sender = form.get("From")
        service = form.get("MessagingServiceSid")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("Body") and not form.get("MediaUrl"):
            return _error(400, 21602, "Message body is required.")
        if not sender and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        message = {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # With a messaging service Twilio first accepts, then picks a sender.
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }
        # Recorded as Twilio's resource (lowercase keys) plus the form fields as sent (To, Body, ...).
        with self._lock:
            self.messages.append({**form, **message, "status_callback": form.get("StatusCallback")})
        if self.deliver_after is not None and self.auth_token and form.get("StatusCallback"):
            timer = threading.Timer(self.deliver_after, self._deliver_quietly, (sid,))
            timer.daemon = True
            timer.start()
        return 201, message, {}

    def _list(self, account, path, query):
        """Twilio's answer to GET Messages.json: the account's messages, newest first, filtered by To, From and
        DateSent (a date, or a moment with DateSent< / DateSent>; a message not yet sent has no DateSent), one page."""
        first = {key: values[-1] for key, values in query.items()}
        size = min(1000, int(first.get("PageSize", 50)))
        with self._lock:
            found = [
                {key: value for key, value in message.items() if key[:1].islower() and key != "status_callback"}
                for message in reversed(self.messages)
                if message["account_sid"] == account
                and first.get("To") in (None, message["to"])
                and first.get("From") in (None, message["from"])
                and _sent_within(message, first)
            ]
        uri = f"{path}?{urlencode({'PageSize': size, 'Page': 0})}"
        return {
            "messages": found[:size], "end": max(0, min(size, len(found)) - 1), "first_page_uri": uri,
            "next_page_uri": None, "page": 0, "page_size": size, "previous_page_uri": None, "start": 0, "uri": uri,
        }

    def _deliver_quietly(self, sid):
        try:
            self.status_callback(sid)
        except OSError:
            pass  # the app is down; Twilio would not retry either


def _sent_within(message, query) -> bool:
    """Twilio's DateSent filters: on the day, before, or after; a message without a DateSent matches none."""
    bounds = {key: query[key] for key in ("DateSent", "DateSent<", "DateSent>") if key in query}
    if not bounds:
        return True
    if not message.get("date_sent"):
        return False
    sent = parsedate_to_datetime(message["date_sent"])
    for key, value in bounds.items():
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        if key == "DateSent" and sent.date() != moment.date():
            return False
        if (key == "DateSent<" and sent >= moment) or (key == "DateSent>" and sent <= moment):
            return False
    return True


def _error(status, code, message, headers=None):
    body = {"code": code, "message": message, "more_info": f"{DOCS}{code}", "status": status}
    return status, body, headers or {}


def _handler_for(double):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle each answer waits for a delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
            match = MESSAGES_PATH.match(self.path.split("?")[0])
            if not match:
                return self._answer(*_error(404, 20404, f"The requested resource {self.path} was not found"))
            account = match["account"]
            if not double._authorised(account, self.headers.get("Authorization", "")):
                return self._answer(*_error(401, 20003, "Authenticate"))
            failure = double._next_failure()
            if failure is None:
                return self._answer(*double._create(account, form))
            kind, retry_after = failure
            if kind == "ok":
                # A scripted success, so a failure can be aimed at a later request.
                return self._answer(*double._create(account, form))
            if kind == "hang":
                # Longer than the client's timeout; stop() cuts it short.
                double._stopping.wait(double.hang_seconds)
                return self._answer(*double._create(account, form))
            if kind == "lost-answer":
                answer = double._create(account, form)
                double._stopping.wait(double.hang_seconds)
                return self._answer(*answer)
            if kind == "drop":
                double._stopping.wait(double.hang_seconds)
                self.close_connection = True
                return None
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return self._answer(*_error(*FAILURES[kind], headers=headers))

        def do_GET(self):
            # Not part of Twilio: lets a test in another process see what was sent.
            if self.path == "/_double/messages":
                return self._answer(200, list(double.messages), {})
            path, _, query = self.path.partition("?")
            match = MESSAGES_PATH.match(path)
            if match:
                if not double._authorised(match["account"], self.headers.get("Authorization", "")):
                    return self._answer(*_error(401, 20003, "Authenticate"))
                with double._lock:
                    double.lookups += 1
                    failing = double.failing_lookups > 0
                    double.failing_lookups -= failing
                if failing:
                    return self._answer(*_error(503, 20503, "Service Unavailable"))
                return self._answer(200, double._list(match["account"], path, parse_qs(query)), {})
            return self._answer(*_error(404, 20404, f"The requested resource {self.path} was not found"))

        def _answer(self, status, body, headers):
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format, *args):
            pass  # numbers and bodies stay out of test output too

    return Handler


def post_signed(url: str, fields: dict, auth_token: str) -> int:
    """POST form fields to a webhook, signed the way Twilio signs (X-Twilio-Signature)."""
    signature = RequestValidator(auth_token).compute_signature(url, fields)
    request = urllib.request.Request(
        url,
        data=urlencode(fields).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main(argv=None):
    """Run the double until interrupted: python -m tests.doubles.twilio_api --port 8765."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=None, help="check Basic auth against this SID and token")
    parser.add_argument("--auth-token", default=None)
    parser.add_argument("--deliver-after", type=float, default=None, help="report each message delivered after N s")
    args = parser.parse_args(argv)
    double = TwilioApiDouble(args.account_sid, args.auth_token, port=args.port, deliver_after=args.deliver_after)
    double.start()
    print(f"Twilio API double on {double.url} (TWILIO_API_BASE_URL={double.url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
