"""One Config, read from the environment, with defaults for development."""
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-secret-not-for-production"
DEV_DATA_KEY = "dev-data-key-not-for-production"


def _env(name, default=None):
    value = os.environ.get(name, "").strip()
    return value or default


def _int(name, default):
    return int(_env(name, default))


def _float(name, default):
    value = _env(name)
    return float(value) if value is not None else default


def _var_dir() -> Path:
    return Path(_env("SVAR_VAR_DIR", str(ROOT / "var")))


@dataclass(frozen=True)
class Config:
    """Settings of one process; tests build their own with overrides."""

    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{_var_dir() / 'svar.db'}"))
    # Where `svar run` keeps its SQLite database and the embedded Redis's files.
    var_dir: Path = field(default_factory=_var_dir)
    # None means: start the embedded Redis (see service/infra/embedded.py).
    redis_url: str | None = field(default_factory=lambda: _env("REDIS_URL"))
    secret_key: str = field(default_factory=lambda: _env("SECRET_KEY", DEV_SECRET))
    data_key: str = field(default_factory=lambda: _env("SVAR_DATA_KEY", DEV_DATA_KEY))
    public_base_url: str = field(default_factory=lambda: _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"))
    twilio_account_sid: str | None = field(default_factory=lambda: _env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str | None = field(default_factory=lambda: _env("TWILIO_AUTH_TOKEN"))
    twilio_from: str | None = field(default_factory=lambda: _env("TWILIO_FROM"))
    twilio_messaging_service_sid: str | None = field(default_factory=lambda: _env("TWILIO_MESSAGING_SERVICE_SID"))
    twilio_api_base_url: str | None = field(default_factory=lambda: _env("TWILIO_API_BASE_URL"))
    telegram_bot_token: str | None = field(default_factory=lambda: _env("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_secret: str | None = field(default_factory=lambda: _env("TELEGRAM_WEBHOOK_SECRET"))
    telegram_api_base_url: str | None = field(default_factory=lambda: _env("TELEGRAM_API_BASE_URL"))
    # The bot's @username without the @, for t.me deep links on printed codes.
    telegram_bot_username: str | None = field(default_factory=lambda: _env("TELEGRAM_BOT_USERNAME"))
    # The phone simulator is a development tool: it is off unless asked for.
    simulator: bool = field(default_factory=lambda: _env("SVAR_SIMULATOR", "0") == "1")
    default_language: str = field(default_factory=lambda: _env("SVAR_DEFAULT_LANGUAGE", "nb"))
    # Completed answer sets wait until this many can be written together (A3).
    # Invalid answers to one question before the engine moves on.
    max_attempts: int = field(default_factory=lambda: _int("SVAR_MAX_ATTEMPTS", 3))
    # Results and exports show no cell with fewer answers than this (A6).
    min_cell: int = field(default_factory=lambda: _int("SVAR_MIN_CELL", 5))
    # Free-text comments are shown only where at least this many were written (A6).
    min_comments: int = field(default_factory=lambda: _int("SVAR_MIN_COMMENTS", 10))
    send_batch: int = field(default_factory=lambda: _int("SVAR_SEND_BATCH", 50))
    # Tries of one outbox row before a temporary failure fails it for good, with its reason.
    send_max_attempts: int = field(default_factory=lambda: _int("SVAR_SEND_MAX_ATTEMPTS", 8))
    # Messages a send job has at the provider at once (threads, each with its own connection): also
    # the most a killed worker can leave claimed but unrecorded.
    send_concurrency: int = field(default_factory=lambda: _int("SVAR_SEND_CONCURRENCY", 4))
    # SMS per second the provider sends for our sender; unset: 10 for a long code, 30 for a messaging service.
    sms_rate: float | None = field(default_factory=lambda: _float("SVAR_SMS_RATE", None))
    # Seconds of messages we let wait in the provider's queue (Twilio keeps up to 4 hours); the rest waits in the outbox.
    sms_backlog: float = field(default_factory=lambda: _float("SVAR_SMS_BACKLOG", 600))
    # Fewer invited than this in a unit and group: no background questions or comments (A6).
    small_group: int = field(default_factory=lambda: _int("SVAR_SMALL_GROUP", 5))
    # Wrong one-time codes one sender may type per window before intake stops looking (A7).
    code_attempts: int = field(default_factory=lambda: _int("SVAR_CODE_ATTEMPTS", 5))
    code_attempt_window: int = field(default_factory=lambda: _int("SVAR_CODE_ATTEMPT_WINDOW", 3600))
    # Wrong codes per window from senders known to one campaign, and from everyone together:
    # a guesser with many numbers still meets a ceiling (A7).
    code_attempts_campaign: int = field(default_factory=lambda: _int("SVAR_CODE_ATTEMPTS_CAMPAIGN", 200))
    code_attempts_global: int = field(default_factory=lambda: _int("SVAR_CODE_ATTEMPTS_GLOBAL", 2000))
    # Seconds a database write waits for a lock (SQLite busy_timeout, PostgreSQL lock_timeout)
    # before it fails: a webhook then answers 503 well within Twilio's 15 s and is retried.
    db_lock_timeout: float = field(default_factory=lambda: _float("SVAR_DB_LOCK_TIMEOUT", 10.0))
    # Seconds a send to Twilio may take before the worker gives up on the answer.
    twilio_timeout: float = field(default_factory=lambda: _float("SVAR_TWILIO_TIMEOUT", 10.0))
    # Seconds before the outbox sweeper re-queues a pending row nobody queued (lost with Redis)...
    pending_grace: float = field(default_factory=lambda: _float("SVAR_PENDING_GRACE", 60.0))
    # ...and a row claimed for sending whose worker died; longer than a send and its status callback.
    sending_grace: float = field(default_factory=lambda: _float("SVAR_SENDING_GRACE", 300.0))
    # Seconds between rq cron's runs of the outbox sweeper (workers/cron.py); fault tests shorten it.
    sweep_interval: int = field(default_factory=lambda: _int("SVAR_SWEEP_INTERVAL", 60))
    # Sweeps that look up a row stuck in sending at the provider before it is sent again without asking.
    unsure_lookups: int = field(default_factory=lambda: _int("SVAR_UNSURE_LOOKUPS", 5))
    # A stuck row of a channel with no lookup (Telegram) is sent again only after this long: longer than a
    # worker that is slow, not dead, takes to record what it sent (workers/send.py RECORD_PATIENCE).
    unsure_grace: float = field(default_factory=lambda: _float("SVAR_UNSURE_GRACE", 900.0))
    # Reverse proxies in front of gunicorn that set X-Forwarded-For/-Proto/-Host; 0 ignores those headers,
    # so a client cannot forge its address to escape the login and token limits.
    trusted_proxies: int = field(default_factory=lambda: _int("SVAR_TRUSTED_PROXIES", 0))
    # Minutes an admin screen may be left alone before its session ends (the progress page's refresh does not count).
    session_idle_minutes: int = field(default_factory=lambda: _int("SVAR_SESSION_IDLE_MINUTES", 30))
    # Hours a login lasts at most, however busy: an admin's working day.
    session_lifetime_hours: int = field(default_factory=lambda: _int("SVAR_SESSION_LIFETIME_HOURS", 8))
    testing: bool = False

    @property
    def sms_sender(self) -> str:
        """What the provider rates us by: the messaging service, else the number."""
        return self.twilio_messaging_service_sid or self.twilio_from or "default"

    @property
    def sms_rate_per_second(self) -> float:
        if self.sms_rate:
            return self.sms_rate
        return 30.0 if self.twilio_messaging_service_sid else 10.0

    @property
    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_lifetime_hours)

    @property
    def is_sqlite(self):
        return self.database_url.startswith("sqlite")

    def production_problems(self):
        """What makes this config unsafe outside development."""
        problems = []
        if self.secret_key == DEV_SECRET:
            problems.append("SECRET_KEY is the development default")
        if self.data_key == DEV_DATA_KEY:
            problems.append("SVAR_DATA_KEY is the development default")
        return problems
