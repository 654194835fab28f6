"""Twilio SMS: signed webhooks in, the Messages REST API out."""
import logging
import re
import threading
from urllib.parse import urlencode

import phonenumbers
import requests
from twilio.base.exceptions import TwilioException
from twilio.base.exceptions import TwilioRestException
from twilio.base.exceptions import TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

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


class _HttpClient(TwilioHttpClient):
    """The SDK's HTTP client, optionally aimed at a test double, keeping the last response headers."""

    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(timeout=timeout)
        self._base_url = base_url.rstrip("/") if base_url else None
        self._last = threading.local()
        # requests reads the proxy and CA settings from the environment on every
        # request (a walk over os.environ, a fifth of a send's CPU here); every
        # request goes to one host, so read them once, for that host.
        settings = self.session.merge_environment_settings(self._base_url or TWILIO_API, {}, None, None, None)
        self.proxy = settings["proxies"]
        self.session.verify = settings["verify"]
        self.session.trust_env = False

    def request(self, method, url, *args, **kwargs):
        if self._base_url and url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API) :]
        self._last.headers = {}
        response = super().request(method, url, *args, **kwargs)
        self._last.headers = response.headers or {}
        return response

    def last_header(self, name: str) -> str | None:
        headers = getattr(self._last, "headers", None) or {}
        # requests gives a case-insensitive mapping; plain dicts need the loop.
        for key, value in headers.items():
            if key.lower() == name.lower():
                return value
        return None


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
        return self._validator.validate(url, request.form, signature)

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
            status_callback += "?" + urlencode({REFERENCE: message.reference})
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
