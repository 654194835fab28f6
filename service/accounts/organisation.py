"""The organisation's own settings: time zone, default language, phone region."""
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import phonenumbers
from babel import Locale
from babel import UnknownLocaleError

from ..models import Organisation


class OrganisationError(ValueError):
    """A setting the organisation cannot take; the message says why."""


def valid_timezone(name) -> str:
    """An IANA time zone name ("Europe/Oslo"), or raise OrganisationError."""
    if not isinstance(name, str) or not name.strip():
        raise OrganisationError("timezone must be an IANA time zone name, e.g. Europe/Oslo")
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise OrganisationError(f"timezone {name.strip()!r} is not a known time zone, e.g. Europe/Oslo") from None
    return name.strip()


def valid_language(code) -> str:
    """A language code Babel knows ("nb", "ar", "ti"), lower case, or raise OrganisationError."""
    if not isinstance(code, str) or not code.strip():
        raise OrganisationError("default_language must be a language code, e.g. nb")
    code = code.strip().lower()
    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise OrganisationError(f"default_language {code!r} is not a known language code") from None
    return code


def valid_region(code) -> str:
    """A region phonenumbers can read numbers for ("NO", "DK"), or raise OrganisationError."""
    if not isinstance(code, str) or code.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise OrganisationError("region must be a two-letter country code with a phone plan, e.g. NO or DK")
    return code.strip().upper()


def update_organisation(organisation: Organisation, changes: dict) -> Organisation:
    """Apply the given settings (name, timezone, default_language, region), all or none."""
    checks = {
        "timezone": valid_timezone,
        "default_language": valid_language,
        "region": valid_region,
        "name": _valid_name,
    }
    unknown = sorted(set(changes) - set(checks))
    if unknown:
        raise OrganisationError(f"unknown setting: {', '.join(unknown)}")
    values = {key: checks[key](value) for key, value in changes.items()}
    for key, value in values.items():
        setattr(organisation, key, value)
    return organisation


def organisation_json(organisation: Organisation) -> dict:
    return {
        "id": organisation.id,
        "name": organisation.name,
        "timezone": organisation.timezone,
        "default_language": organisation.default_language,
        "region": organisation.region,
    }


def _valid_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise OrganisationError("name must be 1 to 200 characters")
    return name.strip()
