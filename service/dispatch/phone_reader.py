"""Many phone numbers of one region, read fast: the common plain forms by phonenumbers' own patterns.

A 100,000-row upload spent half its time in phonenumbers.parse and
number_type (~50 us a number): general parsing for every way a number can
be written, and the type patterns looked up again for each number. Most
rows are written plainly ("+47 912 34 567", "91234567"). For those, this
reads the digits, picks the region among those sharing the country code and
classifies the number exactly as phonenumbers does (same metadata, same
order of tests, patterns compiled once, the types a number of its length
can be tried as one pattern): ~3 us. Anything else (letters,
punctuation, a trunk or international prefix, another country, a number
starting with the country code) goes to normalise_phone, so the answer is
always what phonenumbers gives (tests/service/test_phone_reader.py compares
the two on every kind of number).
"""
import re

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers import PhoneNumberType

from .phones import NOT_SMS
from .phones import PhoneError
from .phones import normalise_phone

PLAIN = re.compile(r"\+?[1-9][0-9 ]*")
# Longer texts may be refused by the library for their length alone.
MAX_PLAIN = 40
# Shorter or longer than any national number phonenumbers accepts.
MIN_NATIONAL, MAX_NATIONAL = 2, 17
# phonenumbers' order of tests (_number_type_helper); fixed line and mobile come after.
SPECIAL = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)


class _Desc:
    """A number description: possible lengths and the national number pattern, compiled."""

    def __init__(self, desc):
        self.lengths = frozenset(desc.possible_length or ()) if desc is not None else frozenset()
        self.source = desc.national_number_pattern if desc is not None else None
        self.pattern = re.compile(self.source) if self.source else None

    def allows(self, length: int) -> bool:
        return self.pattern is not None and (not self.lengths or length in self.lengths)

    def matches(self, national: str) -> bool:
        return self.allows(len(national)) and self.pattern.fullmatch(national) is not None


class _Region:
    """One region's metadata as number_type reads it."""

    def __init__(self, metadata):
        self.leading_digits = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
        self.general = _Desc(metadata.general_desc)
        self.special = [(_Desc(getattr(metadata, name)), kind) for name, kind in SPECIAL]
        self.fixed_line = _Desc(metadata.fixed_line)
        self.mobile = _Desc(metadata.mobile)
        self.same_mobile_and_fixed_line = metadata.same_mobile_and_fixed_line_pattern
        self._by_length: dict[int, tuple | None] = {}

    def number_type(self, national: str):
        """phonenumbers' number_type: the first type in its order whose length and pattern fit."""
        length = len(national)
        if length not in self._by_length:
            self._by_length[length] = self._types_of_length(length)
        types = self._by_length[length]
        if types is None or not self.general.pattern.fullmatch(national):
            return PhoneNumberType.UNKNOWN
        pattern, kinds = types
        # One regular expression for all the types: alternatives are tried in order, as phonenumbers tests them.
        found = pattern.fullmatch(national) if pattern is not None else None
        if found is None:
            return PhoneNumberType.UNKNOWN
        kind = kinds[found.lastgroup]
        if kind == PhoneNumberType.FIXED_LINE and (self.same_mobile_and_fixed_line or self.mobile.matches(national)):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kind

    def _types_of_length(self, length: int) -> tuple | None:
        """(one pattern of the types a number this long can be, in order; the type of each alternative), or None."""
        if not self.general.allows(length):
            return None
        candidates = [(desc, kind) for desc, kind in self.special if desc.allows(length)]
        if self.fixed_line.allows(length):
            candidates.append((self.fixed_line, PhoneNumberType.FIXED_LINE))
        if not self.same_mobile_and_fixed_line and self.mobile.allows(length):
            candidates.append((self.mobile, PhoneNumberType.MOBILE))
        if not candidates:
            return None, {}
        # Each alternative is a named group around the type's own pattern; lastgroup names
        # the alternative that matched (the outer group closes after any of its own).
        pattern = re.compile("|".join(f"(?P<type{index}>{desc.source})" for index, (desc, _kind) in enumerate(candidates)))
        return pattern, {f"type{index}": kind for index, (_desc, kind) in enumerate(candidates)}


class PhoneReader:
    """normalise_phone for many numbers of one region: the same answers, faster for plain ones."""

    def __init__(self, region: str):
        self.region = region
        self.prefix = None
        metadata = PhoneMetadata.metadata_for_region(region) if isinstance(region, str) else None
        if metadata is None or metadata.national_prefix_for_parsing or metadata.national_prefix:
            # Regions with a trunk prefix ("0" in Sweden) strip it while parsing: the library does that.
            return
        code = metadata.country_code
        sharing = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
        regions = [PhoneMetadata.metadata_for_region(name) for name in sharing]
        if any(other is None or other.national_prefix_for_parsing or other.national_prefix for other in regions):
            return
        self.prefix = str(code)
        self.international = re.compile(metadata.international_prefix) if metadata.international_prefix else None
        self.regions = [_Region(other) for other in regions]

    def __call__(self, raw) -> str:
        """The E.164 form of `raw`, or raise PhoneError: exactly normalise_phone(raw, region)."""
        national = self._plain_national(raw)
        if national is None:
            return normalise_phone(raw, self.region)
        kind = self._number_type(national)
        if kind == PhoneNumberType.UNKNOWN:
            raise PhoneError("not a valid phone number")
        if kind in NOT_SMS:
            raise PhoneError("not a mobile number")
        return f"+{self.prefix}{national}"

    def _plain_national(self, raw) -> str | None:
        """The national number of a plainly written number of this country, else None (the library decides)."""
        if self.prefix is None or not isinstance(raw, str):
            return None
        text = raw.strip()
        if len(text) > MAX_PLAIN or not PLAIN.fullmatch(text):
            return None
        digits = text.replace(" ", "")
        if digits.startswith("+"):
            if not digits.startswith(self.prefix, 1):
                return None
            national = digits[1 + len(self.prefix) :]
        else:
            # A national number that starts with the country code or an international
            # prefix is read in more than one way by the library: leave it to the library.
            if digits.startswith(self.prefix) or (self.international and self.international.match(digits)):
                return None
            national = digits
        if not MIN_NATIONAL <= len(national) <= MAX_NATIONAL or national.startswith("0"):
            return None
        return national

    def _number_type(self, national: str):
        """number_type as phonenumbers works it out: the region by leading digits (or a valid type), then its patterns."""
        if len(self.regions) == 1:
            return self.regions[0].number_type(national)
        for region in self.regions:
            if region.leading_digits is not None:
                if region.leading_digits.match(national):
                    return region.number_type(national)
            else:
                kind = region.number_type(national)
                if kind != PhoneNumberType.UNKNOWN:
                    return kind
        return PhoneNumberType.UNKNOWN
