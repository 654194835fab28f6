"""Respondent CSVs as spreadsheets write them: encodings, delimiters, headings, bad rows by line."""
import pytest
from sqlalchemy import select

from service.api.csv_upload import decode
from service.api.csv_upload import read_rows
from service.api.errors import ApiError
from service.models import Invitation
from service.models import RespondentGroup
from tests.service.api_data import PHONES
from tests.service.api_data import draft
from tests.service.api_data import make_world

HEADER = "telefon;språk;enhet;gruppe;kanal"


@pytest.fixture
def world(runtime):
    return make_world(runtime, units=("Nord", "Sør", "Øst"))


@pytest.fixture
def campaign_id(runtime, world):
    with runtime.transaction() as session:
        session.add_all(RespondentGroup(organisation_id=world.organisation_id, name=name) for name in ("Spor 1", "Spor 2", "Spor 3"))
    return draft(runtime, world)


def post(client, world, campaign_id, data: bytes):
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, data=data, content_type="text/csv"
    )


def stored(runtime):
    with runtime.session() as session:
        return session.scalars(select(Invitation).order_by(Invitation.id)).all()


@pytest.mark.parametrize(
    "encoding, bom",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("cp1252", b""),
    ],
)
def test_every_encoding_excel_writes_reads_the_same(encoding, bom):
    text = f"{HEADER}\r\n{PHONES[0]};nb;Øst;Spor 2;sms\r\n{PHONES[1]};en;Sør;;\r\n"
    rows = read_rows(bom + text.encode(encoding))
    assert rows == [
        (2, {"phone": PHONES[0], "language": "nb", "unit": "Øst", "group": "Spor 2", "channel": "sms"}),
        (3, {"phone": PHONES[1], "language": "en", "unit": "Sør", "group": "", "channel": ""}),
    ]


def test_windows_1252_keeps_aeoeaa_and_is_not_mistaken_for_utf8():
    assert decode("Ærlig;Søndre Ås".encode("cp1252")) == "Ærlig;Søndre Ås"
    # Valid UTF-8 stays UTF-8, even though the same bytes are valid Windows-1252 too.
    assert decode("Søndre Ås".encode("utf-8")) == "Søndre Ås"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the CSV is empty"),
        (b"\n+4791234567\n", "the CSV is empty or starts with a blank line"),
        (b"navn;enhet\nKari;Nord\n", "the CSV header has no phone column (found: navn, enhet); expected: phone,language,unit,group,channel"),
        (b"phone,telefon\n1,2\n", "the CSV header names phone more than once"),
        (b"PK\x03\x04\x14\x00\x06\x00", "this is an Excel workbook, not CSV"),
        (b"\xff\xfe" + "phone\n".encode("utf-16-le") + b"\x00\xd8", "cannot be read as UTF-16"),
        (b"phone\n\x00\x01\x02\xff\xfe\x9d\n", "the file is not text"),
        (b'phone\n"+4791234567\n', "the CSV cannot be read at line"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ApiError) as raised:
        read_rows(data)
    assert raised.value.status == 400 and message in raised.value.message


def test_a_file_missing_the_phone_column_is_refused_whole(client, runtime, world, campaign_id):
    response = post(client, world, campaign_id, "språk;enhet\nnb;Nord\n".encode())
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"columns": ["språk", "enhet"]}
    assert stored(runtime) == []


def test_ten_percent_bad_numbers_are_listed_by_line_and_the_rest_kept(client, runtime, world, campaign_id):
    lines, bad = [HEADER], {}
    for index in range(200):
        line = index + 2
        if index % 10 == 3:
            phone = ["12345", "+47 2212 3456", "telefon", "+999 123", "4.79123E+09"][index // 10 % 5]
            bad[line] = phone
        else:
            phone = f"9{index:07d}"  # Norwegian mobile, national format
        lines.append(f"{phone};nb;Nord;Spor 1;sms")
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    response = post(client, world, campaign_id, data)
    assert response.status_code == 207
    report = response.json
    assert report["added"] == 180
    assert [entry["row"] for entry in report["errors"]] == sorted(bad)
    reasons = {entry["reason"] for entry in report["errors"]}
    assert reasons <= {"not a phone number", "not a valid phone number", "not a mobile number"}
    # The report never echoes a whole number.
    assert all(entry["phone"].count("*") >= len(entry["phone"]) - 2 for entry in report["errors"])
    assert len(stored(runtime)) == 180


def test_rows_name_units_groups_and_channels_and_bad_ones_say_why(client, runtime, world, campaign_id):
    with runtime.session() as session:
        groups = dict(session.execute(select(RespondentGroup.name, RespondentGroup.id)).all())
    data = "\n".join(
        [
            HEADER,
            f"{PHONES[0]};nb;Øst;Spor 2;sms",
            f"{PHONES[1]};EN;sør;{groups['Spor 3']};",
            f"{PHONES[2]};nb;Vest;Spor 1;sms",  # no such unit
            f"{PHONES[3]};nb;Nord;Spor 9;sms",  # no such group
            "+4790000001;nb;Nord;Spor 1;fax",  # no such channel
            "+4790000002;nb;Nord;Spor 1;telegram",  # the campaign has no Telegram
            f"{PHONES[0]};nb;Nord;Spor 1;sms",  # again
        ]
    ).encode()
    report = post(client, world, campaign_id, data).json
    assert report["added"] == 2
    assert [(entry["row"], entry["reason"]) for entry in report["errors"]] == [
        (4, "unit is not one of the campaign's units"),
        (5, "group is not one of the organisation's groups"),
        (6, "channel is not one the campaign invites by: sms"),
        (7, "channel is not one the campaign invites by: sms"),
    ]
    assert [entry["row"] for entry in report["duplicates"]] == [8]
    rows = stored(runtime)
    assert [(row.unit_id, row.group_id, row.language, row.channel) for row in rows] == [
        (world.unit_ids[2], groups["Spor 2"], "nb", "sms"),
        (world.unit_ids[1], groups["Spor 3"], "en", "sms"),
    ]


def test_language_codes_are_read_as_people_write_them(client, runtime, world, campaign_id):
    data = f"phone,language,unit\n{PHONES[0]},FA-af,Nord\n{PHONES[1]},no,Nord\n{PHONES[2]},,Nord\n".encode()
    assert post(client, world, campaign_id, data).json["added"] == 3
    assert [row.language for row in stored(runtime)] == ["fa_AF", "nb", "nb"]
