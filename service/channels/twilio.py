"""Twilio SMS: signed webhooks in, the Messages REST API out."""
import hmac
import http.client
import logging
import re
import ssl
import threading
from base64 import b64encode
from collections import deque
from urllib.parse import quote_plus
from urllib.parse import unquote
from urllib.parse import urlencode
from urllib.parse import urlsplit

import certifi
import phonenumbers
import requests
from twilio.base.exceptions import TwilioException
from twilio.base.exceptions import TwilioRestException
from twilio.base.exceptions import TwilioServiceException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.util.wait import wait_for_read

from .base import InboundMessage
from .base import OutcomeUnknown
from .base import OutgoingMessage
from .base import PermanentFailure
from .base import RecipientOptedOut
from .base import TemporaryFailure

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/webhooks/twilio/status"
# The query parameter of the status callback that names our outbox row.
REFERENCE = "ref"
SID = re.compile(r"[A-Za-z0-9]{1,64}")
# Twilio error codes that decide what a failed send means.
UNSUBSCRIBED = 21610
AUTHENTICATE = 20003
# Idle keep-alive connections to Twilio kept per process: one per send lane, and some room.
POOL_SIZE = 10


class _HttpClient(HttpClient):
    """The SDK's HTTP client interface on keep-alive `http.client` connections, optionally aimed at a test double.

    The SDK builds, signs and parses the calls. Its default client sends them
    through `requests`, and urllib3's pool (the last version) still cost
    twice what the HTTP exchange itself does (pool keys, URL parsing, header
    containers, retry objects). Here a call takes an idle connection to its
    host (or opens one), and puts it back for the next call, of any thread,
    while the server keeps it open: the send lanes of one job and of the
    next share them, so a TLS handshake is not repeated per job.
    Transport errors come out as the `requests` exceptions the SDK's client
    raises, so callers see the same failures.
    """

    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(log, False, timeout)
        self._base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()
        # (scheme, host, port) -> idle connections; deque's append and pop are atomic, so no lock.
        self._idle = {}
        # The environment's proxy and CA settings, read once, for the one host we call.
        with requests.Session() as session:
            settings = session.merge_environment_settings(self._base_url or TWILIO_API, {}, None, None, None)
        self._proxy = urlsplit(next(iter(settings["proxies"].values()))) if settings["proxies"] else None
        self._verify = settings["verify"]
        self._tls_context = None

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        if self._base_url and url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API) :]
        if params:
            url += "?" + urlencode(_present(params), doseq=True)
        fields = dict(headers or {})
        body = None
        if data:
            body = urlencode(_present(data), doseq=True).encode("utf-8")
            fields["Content-Type"] = "application/x-www-form-urlencoded"
        if auth:
            fields["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        # Redirects are not followed: the SDK never asks to, and Twilio's API answers without them.
        self._local.headers = {}
        seconds = timeout if timeout is not None else self.timeout
        target = urlsplit(url)
        connection = self._connection(target, seconds)
        path = url if self._proxy is not None and target.scheme == "http" else (target.path or "/") + (
            "?" + target.query if target.query else "")
        try:
            connection.request(method.upper(), path, body=body, headers=fields)
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as exc:
            # The request may have left: its answer did not come in time.
            connection.close()
            raise requests.ReadTimeout(str(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            # A job timeout mid-call: the connection is in an unknown state.
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._put_back(target, connection)
        self._local.headers = response.headers
        return Response(response.status, content.decode("utf-8"), response.headers)

    def _connection(self, target, seconds):
        """An idle open connection to the target's host, or a new one (ConnectTimeout/ConnectionError if none)."""
        idle = self._idle.setdefault((target.scheme, target.hostname, target.port), deque())
        connection = None
        while connection is None:
            try:
                connection = idle.pop()
            except IndexError:
                break
            if connection.sock is None or wait_for_read(connection.sock, timeout=0.0):
                # Closed by the server while idle (readable means EOF here): the next, or a fresh one, as urllib3's pool does.
                connection.close()
                connection = None
        if connection is None:
            connection = self._open(target, seconds)
            try:
                connection.connect()
            except TimeoutError as exc:
                connection.close()
                raise requests.ConnectTimeout(str(exc)) from None
            except OSError as exc:
                connection.close()
                raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        if connection.timeout != seconds:
            # A call with its own timeout (settimeout costs system calls, so only on a change).
            connection.timeout = seconds
            connection.sock.settimeout(seconds)
        return connection

    def _tls(self) -> ssl.SSLContext:
        # Built at the first HTTPS connection: loading the CA bundle costs a web process that only verifies webhooks.
        if self._tls_context is None:
            verify = self._verify
            context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else certifi.where())
            if verify is False:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls_context = context
        return self._tls_context

    def _open(self, target, seconds):
        https = target.scheme == "https"
        port = target.port or (443 if https else 80)
        if self._proxy is None:
            if https:
                return http.client.HTTPSConnection(target.hostname, port, timeout=seconds, context=self._tls())
            return http.client.HTTPConnection(target.hostname, port, timeout=seconds)
        proxy_port = self._proxy.port or (443 if self._proxy.scheme == "https" else 80)
        proxy_headers = {}
        if self._proxy.username:
            credentials = f"{unquote(self._proxy.username)}:{unquote(self._proxy.password or '')}"
            proxy_headers["Proxy-Authorization"] = "Basic " + b64encode(credentials.encode()).decode("ascii")
        if not https:
            # Plain HTTP through a proxy: the absolute URL to the proxy itself.
            return _ProxiedConnection(self._proxy.hostname, proxy_port, timeout=seconds, proxy_headers=proxy_headers)
        connection = http.client.HTTPSConnection(self._proxy.hostname, proxy_port, timeout=seconds, context=self._tls())
        connection.set_tunnel(target.hostname, port, headers=proxy_headers)
        return connection

    def _put_back(self, target, connection):
        idle = self._idle[(target.scheme, target.hostname, target.port)]
        if len(idle) < POOL_SIZE:
            idle.append(connection)
        else:
            connection.close()

    def close(self):
        """Close the idle connections."""
        for idle in list(self._idle.values()):
            while idle:
                idle.pop().close()

    def last_header(self, name: str) -> str | None:
        # http.client's headers are case-insensitive.
        headers = getattr(self._local, "headers", None) or {}
        return headers.get(name)


class _ProxiedConnection(http.client.HTTPConnection):
    """Plain HTTP through a forward proxy, its credentials on every request."""

    def __init__(self, *args, proxy_headers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._proxy_headers = proxy_headers or {}

    def request(self, method, url, body=None, headers=None, **kwargs):
        super().request(method, url, body=body, headers={**(headers or {}), **self._proxy_headers}, **kwargs)


def _present(values: dict) -> dict:
    """Form fields as requests sends them: None values left out."""
    return {key: value for key, value in values.items() if value is not None}


class TwilioChannel:
    """The "sms" channel."""

    name = "sms"

    def __init__(self, config, timeout: float | None = None):
        self.config = config
        self._validator = RequestValidator(config.twilio_auth_token) if config.twilio_auth_token else None
        # Twilio answers in well under a second; the default ten is long enough
        # for a bad day and short enough that a hung connection does not hold a worker.
        self._http = _HttpClient(config.twilio_api_base_url, timeout or config.twilio_timeout)
        self._client = None

    # --- inbound ------------------------------------------------------------

    def verify(self, request) -> bool:
        """Check X-Twilio-Signature against the public URL Twilio called, not the one we see behind a proxy."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self._validator is None:
            return False
        url = self.config.public_base_url.rstrip("/") + request.full_path
        if url.endswith("?"):
            url = url[:-1]
        form = request.form
        # Twilio signs the URL it was given, which is this one. The SDK's
        # validate() computes two HMACs (the URL with and without its port),
        # so it is asked only when the URL as given does not match.
        if hmac.compare_digest(self._validator.compute_signature(url, form).encode(), signature.encode()):
            return True
        return self._validator.validate(url, form, signature)

    def parse(self, request) -> list[InboundMessage]:
        """One inbound SMS; ValueError if Twilio's fields are missing or the sender is no phone number."""
        form = request.form
        sid = form.get("MessageSid", "").strip()
        sender = form.get("From", "").strip()
        if not is_sid(sid):
            raise ValueError("MessageSid missing or malformed")
        if not sender:
            raise ValueError("From missing")
        return [
            InboundMessage(
                channel=self.name,
                external_id=sid,
                address=normalise(sender),
                # MMS without text arrives with an empty Body.
                text=form.get("Body", ""),
            )
        ]

    # --- outbound -----------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        """Create the message at Twilio and return its SID."""
        status_callback = self.config.public_base_url.rstrip("/") + STATUS_PATH
        if message.reference:
            # Twilio signs the whole URL, so nobody else can claim a row with it.
            status_callback += f"?{REFERENCE}={quote_plus(message.reference)}"
        params = {"to": message.address, "body": message.text, "status_callback": status_callback}
        if self.config.twilio_messaging_service_sid:
            params["messaging_service_sid"] = self.config.twilio_messaging_service_sid
        else:
            params["from_"] = self.config.twilio_from
        try:
            created = self._get_client().messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._failure(exc) from None
        except requests.ReadTimeout:
            # The request left and no answer came: Twilio may have accepted it.
            # Its status callback (?ref=) settles that; sending again now could
            # send twice.
            raise OutcomeUnknown("Twilio did not answer in time") from None
        except requests.RequestException as exc:
            raise TemporaryFailure(f"Twilio unreachable: {type(exc).__name__}") from None
        except TwilioException as exc:
            raise TemporaryFailure(f"Twilio client error: {type(exc).__name__}") from None
        return created.sid

    def _get_client(self) -> Client:
        # One client for the life of the process: it keeps the HTTPS connection.
        if self._client is None:
            if not (self.config.twilio_account_sid and self.config.twilio_auth_token):
                raise TemporaryFailure("Twilio is not configured")
            if not (self.config.twilio_from or self.config.twilio_messaging_service_sid):
                raise TemporaryFailure("neither TWILIO_FROM nor TWILIO_MESSAGING_SERVICE_SID is set")
            self._client = Client(
                self.config.twilio_account_sid,
                self.config.twilio_auth_token,
                http_client=self._http,
                environment={},
            )
        return self._client

    def _failure(self, exc):
        code = _int(exc.code)
        status = _int(exc.status) or 0
        label = str(code or status)
        if status == 429 or status >= 500:
            return TemporaryFailure(f"Twilio answered {status}", label, _seconds(self._http.last_header("Retry-After")))
        if code == UNSUBSCRIBED:
            return RecipientOptedOut("recipient unsubscribed at Twilio", label)
        if status == 401 or code == AUTHENTICATE:
            # Our credentials, not the message, are wrong: keep it for when they are fixed.
            log.error("Twilio rejected the account credentials")
            return TemporaryFailure("Twilio rejected the credentials", label)
        return PermanentFailure(f"Twilio refused the message ({status})", label)


def is_sid(value: str) -> bool:
    """A Twilio SID: letters and digits ("SM" and 32 hex); anything else (a NUL byte, say) PostgreSQL would refuse."""
    return SID.fullmatch(value) is not None


def normalise(number: str) -> str:
    """E.164 for a number Twilio gives us; ValueError if it is none."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _seconds(value: str | None) -> float | None:
    # Twilio sends delta-seconds; an HTTP date is possible in principle and
    # then RQ's own retry intervals are good enough.
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
