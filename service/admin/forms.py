"""Reading form fields: each reader returns a value or records an error for its field."""
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from .i18n import _


class Form:
    """The posted values (kept to show again) and the errors found, by field name."""

    def __init__(self, data):
        self.data = data
        self.values: dict = {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, required: bool = True, max_length: int = 200) -> str | None:
        value = (self.data.get(name) or "").strip()
        self.values[name] = value
        if not value:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        if len(value) > max_length:
            self.errors[name] = _("At most %(n)s characters.", n=max_length)
            return None
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            # Every text field is one line; PostgreSQL refuses NUL in text outright.
            self.errors[name] = _("Control characters are not allowed.")
            return None
        return value

    def integer(self, name: str, low: int, high: int, required: bool = True) -> int | None:
        raw = (self.data.get(name) or "").strip()
        self.values[name] = raw
        if not raw:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        if not raw.isdigit() or not low <= int(raw) <= high:
            self.errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
            return None
        return int(raw)

    def ids(self, name: str) -> list[int]:
        raw = self.data.getlist(name)
        self.values[name] = raw
        return [int(value) for value in raw if value.isdigit()]

    def choices(self, name: str, allowed) -> list[str]:
        raw = [value for value in self.data.getlist(name) if value in allowed]
        self.values[name] = raw
        return raw

    def choice(self, name: str, allowed, required: bool = True) -> str | None:
        raw = (self.data.get(name) or "").strip()
        self.values[name] = raw
        if raw in allowed:
            return raw
        if raw or required:
            self.errors[name] = _("Choose one of the options.")
        return None

    def moment(self, name: str, zone: str, required: bool = True) -> datetime | None:
        """A local date and time (datetime-local input) in `zone`, as an aware datetime."""
        raw = (self.data.get(name) or "").strip()
        self.values[name] = raw
        if not raw:
            if required:
                self.errors[name] = _("This field is required.")
            return None
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            self.errors[name] = _("Enter a date and time, e.g. 2026-11-30 16:00.")
            return None
        return local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local

    def fail(self, name: str, message: str):
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def local_input(moment: datetime | None, zone: str) -> str:
    """An aware datetime as a datetime-local input's value in `zone`."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")
