"""Phone numbers as respondents type them: read, normalise to E.164, mask for display."""
import phonenumbers
from phonenumbers import NumberParseException
from phonenumbers import PhoneNumberFormat
from phonenumbers import PhoneNumberType

# Numbers of these kinds cannot receive an SMS invitation; everything else
# that is valid might (FIXED_LINE_OR_MOBILE is how some countries publish mobiles).
NOT_SMS = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
        PhoneNumberType.PAGER,
    }
)


class PhoneError(ValueError):
    """A phone number that cannot be used for SMS; the message says why, without the number."""


def normalise_phone(raw, region: str) -> str:
    """The E.164 form of `raw` read in `region` ("+4791234567"), or raise PhoneError."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        # Spreadsheets and JSON sometimes turn a phone number into a number.
        raw = str(raw)
    if not isinstance(raw, str):
        raise PhoneError("phone must be a string")
    text = raw.strip()
    if not text:
        raise PhoneError("phone is missing")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise PhoneError("not a phone number") from None
    # number_type is UNKNOWN exactly when is_valid_number is False; asking
    # once halves the cost of a 100,000-row upload.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        raise PhoneError("not a valid phone number")
    if kind in NOT_SMS:
        raise PhoneError("not a mobile number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask(raw) -> str:
    """A number safe to show back: every character but the last two digits starred."""
    text = str(raw or "").strip()
    if not text:
        return ""
    digits = [c for c in text if c.isdigit()]
    shown = "".join(digits[-2:]) if len(digits) >= 4 else ""
    return "*" * max(len(text) - len(shown), 1) + shown
