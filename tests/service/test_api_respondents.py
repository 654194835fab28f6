"""Respondents by JSON or CSV, and paper codes, through the API; no number ever echoed."""
import logging
import re

import pytest

from tests.service.api_data import LANGUAGES
from tests.service.api_data import PHONES
from tests.service.api_data import draft
from tests.service.api_data import make_world


@pytest.fixture
def world(runtime):
    return make_world(runtime)


@pytest.fixture
def campaign_id(runtime, world):
    return draft(runtime, world)


def post_csv(client, world, campaign_id, text, encoding="utf-8"):
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/respondents",
        headers=world.headers,
        data=text.encode(encoding),
        content_type="text/csv; charset=utf-8",
    )


def test_json_respondents_are_added(client, world, campaign_id):
    rows = [{"phone": "91234567", "unit_id": world.unit_ids[0], "language": "en"}, {"phone": PHONES[1], "unit_id": world.unit_ids[1]}]
    response = client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows})
    assert response.status_code == 200
    assert response.json == {"added": 2, "errors": [], "duplicates": [], "opted_out": []}


def test_json_rows_are_reported_by_index(client, world, campaign_id):
    rows = [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}, {"phone": "123", "unit_id": world.unit_ids[0]}, {"phone": PHONES[0], "unit_id": world.unit_ids[1]}]
    response = client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows})
    assert response.status_code == 207
    assert response.json == {
        "added": 1,
        "errors": [{"row": 1, "reason": "not a valid phone number", "phone": "***"}],
        "duplicates": [{"row": 2, "phone": "*********67"}],
        "opted_out": [],
    }


def test_csv_with_semicolons_a_bom_and_bad_rows_reports_line_numbers(client, world, campaign_id):
    text = (
        "\ufeffPhone;Language;Unit\r\n"
        "912 34 567;nb;Nord\r\n"
        f"{PHONES[1]};en;{world.unit_ids[1]}\r\n"
        ";;\r\n"  # blank lines are skipped but still counted
        "22123456;nb;Nord\r\n"
        f"{PHONES[2]};de;Nord\r\n"
        f"{PHONES[3]};nb;Øst\r\n"
        "91234567;nb;sør\r\n"
    )
    response = post_csv(client, world, campaign_id, text)
    assert response.status_code == 207
    assert response.json == {
        "added": 2,
        "errors": [
            {"row": 5, "reason": "not a mobile number", "phone": "******56"},
            {"row": 6, "reason": f"language is not one of the campaign's: {LANGUAGES}", "phone": "*********79"},
            {"row": 7, "reason": "unit is not one of the campaign's units", "phone": "*********30"},
        ],
        "duplicates": [{"row": 8, "phone": "*********67"}],
        "opted_out": [],
    }


def test_csv_with_commas_and_windows_1252(client, world, campaign_id):
    text = "telefon,språk,enhet\n" f"{PHONES[0]},nb,Sør\n"
    response = post_csv(client, world, campaign_id, text, encoding="cp1252")
    assert response.status_code == 200 and response.json["added"] == 1


@pytest.mark.parametrize("text", ["", "name;unit\nx;Nord\n"])
def test_csv_without_a_phone_column_is_400(client, world, campaign_id, text):
    response = post_csv(client, world, campaign_id, text)
    assert response.status_code == 400 and "phone" in response.json["error"]["message"]


def test_respondents_need_json_or_csv(client, world, campaign_id):
    path = f"/api/v1/campaigns/{campaign_id}/respondents"
    assert client.post(path, headers=world.headers, data="x", content_type="application/xml").status_code == 415
    assert client.post(path, headers=world.headers, json={"respondents": "all"}).status_code == 400
    assert client.post(path, headers=world.headers, json={"respondents": []}).status_code == 400


def test_a_huge_upload_is_413(client, world, campaign_id):
    # 100,000 rows fit in 16 MiB with room to spare; 18 MB is no respondent list.
    text = "phone\n" + f"{PHONES[0]}\n" * 1_500_000
    response = post_csv(client, world, campaign_id, text)
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


def test_more_than_100000_rows_are_refused_whole(client, world, campaign_id):
    text = "phone\n" + f"{PHONES[0]}\n" * 100_001
    response = post_csv(client, world, campaign_id, text)
    assert response.status_code == 400
    assert response.json["error"]["message"] == "the CSV has more than 100000 rows; split it into several uploads"


def test_no_phone_number_appears_in_responses_or_logs(client, runtime, world, campaign_id, caplog):
    caplog.set_level(logging.DEBUG)
    rows = [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES] + [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}, {"phone": "+47 9999", "unit_id": 42}]
    bodies = [
        client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows}).get_data(as_text=True),
        post_csv(client, world, campaign_id, "phone;unit\n" + "\n".join(f"{p};Nord" for p in PHONES)).get_data(as_text=True),
        client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world.headers).get_data(as_text=True),
        client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=world.headers).get_data(as_text=True),
        client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers).get_data(as_text=True),
    ]
    seen = "\n".join(bodies + [record.getMessage() for record in caplog.records])
    for phone in PHONES:
        national = phone[3:]
        assert phone not in seen and national not in seen and national[:6] not in seen
    assert "campaign" in seen  # the log lines are there, just without numbers


def test_paper_codes_are_returned_once_with_no_store(client, runtime, world, campaign_id):
    path = f"/api/v1/campaigns/{campaign_id}/codes"
    response = client.post(path, headers=world.headers, json={"unit_id": world.unit_ids[1], "count": 3})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["unit_id"] == world.unit_ids[1] and response.json["count"] == 3
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code) for code in response.json["codes"])
    progress = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=world.headers).json
    assert progress["total"] == 3 and progress["invited"] == 0


@pytest.mark.parametrize(
    "body, status",
    [
        ({"unit_id": 1, "count": 1001}, 400),
        ({"unit_id": 1, "count": 0}, 400),
        ({"unit_id": 1}, 400),
        ({"count": 5}, 400),
        ({"unit_id": 999, "count": 5}, 400),
        ({"unit_id": 1, "count": 5, "group_id": 77}, 400),
        ({"unit_id": 1, "count": 5, "language": "de"}, 400),
    ],
)
def test_bad_code_requests(client, world, campaign_id, body, status):
    response = client.post(f"/api/v1/campaigns/{campaign_id}/codes", headers=world.headers, json=body)
    assert response.status_code == status, response.json


def test_a_closed_campaign_takes_no_respondents_or_codes(client, world, campaign_id):
    client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers)
    codes = client.post(f"/api/v1/campaigns/{campaign_id}/codes", headers=world.headers, json={"unit_id": world.unit_ids[0], "count": 1})
    rows = client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": [{"phone": PHONES[0]}]})
    assert codes.status_code == rows.status_code == 409
