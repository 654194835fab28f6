"""Twilio SMS: signed webhooks in, the Messages REST API out."""
import hmac
import logging
import re
import threading
from base64 import b64encode
from datetime import datetime
from datetime import timedelta
from urllib.parse import urlencode

import certifi
import phonenumbers
import requests
import urllib3
from twilio.base.exceptions import TwilioException
from twilio.base.exceptions import TwilioRestException
from twilio.base.exceptions import TwilioServiceException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from ..conversation.inbound import InboundMessage
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
# Keep-alive connections to Twilio per process: one per send lane, and some room.
POOL_SIZE = 10


class _HttpClient(HttpClient):
    """The SDK's HTTP client interface on urllib3, optionally aimed at a test double, keeping the last response headers.

    The SDK builds, signs and parses the calls; its default client sends them
    through `requests`, whose per-request work (merging session settings,
    hooks, cookies, encoding) was half of a send's CPU. One pool of keep-alive
    connections to the one host we call, shared by the send job's lanes.
    Transport errors come out as the `requests` exceptions the SDK's client
    raises, so callers see the same failures.
    """

    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(log, False, timeout)
        self._base_url = base_url.rstrip("/") if base_url else None
        self._last = threading.local()
        # The environment's proxy and CA settings, read once, for the one host we call.
        with requests.Session() as session:
            settings = session.merge_environment_settings(self._base_url or TWILIO_API, {}, None, None, None)
        proxy = next(iter(settings["proxies"].values()), None) if settings["proxies"] else None
        verify = settings["verify"]
        tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": verify if isinstance(verify, str) else certifi.where()}
        if verify is False:
            tls = {"cert_reqs": "CERT_NONE"}
        pool = {"maxsize": POOL_SIZE, "block": False, "retries": False, **tls}
        self._pool = urllib3.ProxyManager(proxy, **pool) if proxy else urllib3.PoolManager(**pool)

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        if self._base_url and url.startswith(TWILIO_API):
            url = self._base_url + url[len(TWILIO_API) :]
        if params:
            url += "?" + urlencode(_present(params), doseq=True)
        fields = dict(headers or {})
        body = None
        if data:
            body = urlencode(_present(data), doseq=True)
            fields["Content-Type"] = "application/x-www-form-urlencoded"
        if auth:
            fields["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        self._last.headers = {}
        seconds = timeout if timeout is not None else self.timeout
        try:
            response = self._pool.request(
                method.upper(), url, body=body, headers=fields, redirect=allow_redirects,
                timeout=urllib3.Timeout(connect=seconds, read=seconds) if seconds else None,
            )
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.ReadTimeout(str(exc)) from None
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise requests.ConnectTimeout(str(exc)) from None
        except urllib3.exceptions.HTTPError as exc:
            raise requests.ConnectionError(str(exc)) from None
        self._last.headers = response.headers
        return Response(response.status, response.data.decode("utf-8"), response.headers)

    def last_header(self, name: str) -> str | None:
        # urllib3's headers are case-insensitive.
        headers = getattr(self._last, "headers", None) or {}
        return headers.get(name)


def _present(values: dict) -> dict:
    """Form fields as requests sends them: None values left out."""
    return {key: value for key, value in values.items() if value is not None}


# The newest messages to one number read when looking up a send whose answer was lost.
LOOKUP_PAGE = 20
# Twilio's clock and ours differ a little: a lookup reaches back this much before the claim.
CLOCK_SKEW = timedelta(minutes=2)


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

    def find_sent(self, address: str, text: str, since: datetime) -> str | None:
        """The SID of a message Twilio took for `address` with this text since `since`, or None; raises TemporaryFailure if Twilio cannot say.

        For a send whose answer never came (a timeout, a killed worker) when no
        status callback settled it: asked before sending again. Twilio's list
        filters are To, From and DateSent, but a message still queued has no
        DateSent yet, so the newest messages to the number are read and matched
        on body and creation time.
        """
        sender = None if self.config.twilio_messaging_service_sid else self.config.twilio_from
        try:
            found = self._get_client().messages.list(to=address, from_=sender, page_size=LOOKUP_PAGE, limit=LOOKUP_PAGE)
        except (TwilioRestException, TwilioServiceException, requests.RequestException, TwilioException) as exc:
            raise TemporaryFailure(f"Twilio lookup failed: {type(exc).__name__}") from None
        for message in found:
            created = message.date_created
            if message.body == text and (created is None or created >= since):
                return message.sid
        return None

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
