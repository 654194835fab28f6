"""Reading request values and writing model objects as JSON."""
import unicodedata
from datetime import datetime

from ..infra.url_ids import LARGEST_ID
from .errors import invalid


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return moment.isoformat() if moment is not None else None


def read_datetime(value, name: str) -> datetime | None:
    """An ISO 8601 timestamp with an offset ("2026-03-01T12:00:00+01:00" or "...Z")."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be an ISO 8601 string", field=name)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid(f"{name} is not an ISO 8601 timestamp", field=name) from None
    if moment.tzinfo is None:
        # A naive time is ambiguous across the organisation's time zone and UTC.
        raise invalid(f"{name} needs a time zone offset, e.g. Z or +01:00", field=name)
    return moment


def read_id(value, name: str, required: bool = True) -> int | None:
    """A positive integer id from JSON."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"{name} must be a positive integer", field=name)
    if value > LARGEST_ID:
        # Past what an id column holds: the database would fail, not answer "no such id".
        raise invalid(f"{name} is too large to be an id", field=name)
    return value


def read_text(value, name: str, max_length: int = 200, required: bool = True) -> str | None:
    """A non-blank string of at most `max_length` characters, stripped."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} is required", field=name)
    if len(value.strip()) > max_length:
        raise invalid(f"{name} is longer than {max_length} characters", field=name)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        # A name is one line; PostgreSQL refuses NUL in text outright.
        raise invalid(f"{name} must not contain control characters", field=name)
    return value.strip()


def unit_json(unit) -> dict:
    return {"id": unit.id, "name": unit.name, "parent_id": unit.parent_id}


def campaign_json(campaign) -> dict:
    units = sorted(campaign.units, key=lambda unit: unit.id)
    groups = sorted(campaign.groups, key=lambda group: group.id)
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "survey": {"key": campaign.survey_version.key, "version": campaign.survey_version.version},
        "default_language": campaign.default_language,
        "languages": list(campaign.languages or []),
        "channels": list(campaign.channels or []),
        "incomplete_policy": campaign.incomplete_policy,
        "small_group": campaign.small_group,
        "unit_ids": [unit.id for unit in units],
        "units": [{"id": unit.id, "name": unit.name} for unit in units],
        "group_ids": [group.id for group in groups],
        "groups": [{"id": group.id, "name": group.name} for group in groups],
        "timezone": campaign.organisation.timezone,
        "created_at": iso(campaign.created_at),
        "opens_at": iso(campaign.opens_at),
        "closes_at": iso(campaign.closes_at),
        "launched_at": iso(campaign.launched_at),
        "closed_at": iso(campaign.closed_at),
    }
