"""The fast phone reader answers exactly as normalise_phone (phonenumbers) does, for every kind of input."""
import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from service.dispatch.phone_reader import PhoneReader
from service.dispatch.phones import PhoneError
from service.dispatch.phones import normalise_phone

# Norway shares +47 with Svalbard, Denmark and Iceland have one region each, Sweden and the UK
# strip a trunk prefix (the reader hands them to the library), and a region that does not exist.
REGIONS = ["NO", "DK", "IS", "PL", "SE", "GB", "US", "FI", "XX"]


def outcome(read, raw, region):
    try:
        return read(raw, region) if region is not None else read(raw)
    except PhoneError as error:
        return ("error", str(error))


def inputs(region: str, draw: random.Random) -> list:
    """Example numbers of every type, random digit strings in national and international form, and oddities."""
    numbers = []
    for kind in PhoneNumberType.values():
        for other in ([region, "SJ"] if region == "NO" else [region]):
            example = phonenumbers.example_number_for_type(other, kind)
            if example is not None:
                national = phonenumbers.national_significant_number(example)
                numbers += [national, f"+{example.country_code}{national}", f"+{example.country_code} {national[:3]} {national[3:]}"]
    code = str(phonenumbers.country_code_for_region(region) or 47)
    for _ in range(400):
        digits = "".join(draw.choice("0123456789") for _ in range(draw.randint(1, 18)))
        numbers += [digits, f"+{code}{digits}", f"+{code} {digits}", f"{code}{digits}", f"00{code}{digits}", f" {digits[:2]} {digits[2:]} "]
    numbers += ["", " ", "+", "+47", "+4", "12345", "9123 4567", "+47 912 34 567", "+47  91234567", "+ 4791234567",
                "91234567 ext 12", "(+47) 91234567", "912-34-567", "+47\u00a091234567", "९१२३४५६७", "4" * 17, "4" * 18,
                "+47 " + " " * 300 + "91234567", 91234567, None, 4791234567]
    return numbers


@pytest.mark.parametrize("region", REGIONS)
def test_the_reader_answers_as_phonenumbers_does(region):
    read = PhoneReader(region)
    draw = random.Random(region)
    for raw in inputs(region, draw):
        assert outcome(read, raw, None) == outcome(normalise_phone, raw, region), repr(raw)


def test_norwegian_and_danish_plain_numbers_take_the_fast_path(monkeypatch):
    import service.dispatch.phone_reader as module

    def library(*_args):
        raise AssertionError("the library was asked")

    monkeypatch.setattr(module, "normalise_phone", library)
    assert PhoneReader("NO")("+47 912 34 567") == "+4791234567"
    assert PhoneReader("NO")("41234567") == "+4741234567"
    assert PhoneReader("DK")("20 12 34 56") == "+4520123456"
    with pytest.raises(PhoneError, match="not a mobile number"):
        PhoneReader("NO")("22 12 34 56")
