"""Surveys, units and campaigns through the JSON API: happy paths and bad input."""
from datetime import timedelta

import pytest
from rq import Queue

from flows.definitions import bundled_survey
from service.models import utcnow
from tests.service.api_data import PHONES
from tests.service.api_data import draft
from tests.service.api_data import make_world

# The bundled survey's version: the one stored by a fresh database.
VERSION = bundled_survey("introduction-programme").version


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def test_surveys_are_listed_and_shown(client, world):
    listed = client.get("/api/v1/surveys", headers=world.headers)
    assert listed.status_code == 200
    [survey] = listed.json["surveys"]
    assert survey["key"] == "introduction-programme" and survey["version"] == VERSION
    assert survey["languages"] == ["nb", "nn", "da", "sv", "en", "ar", "so", "ti", "fa", "fa_AF", "uk", "pl"] and survey["question_count"] > 3
    assert survey["title"]["en"] == "Introduction programme user survey"
    shown = client.get("/api/v1/surveys/introduction-programme", headers=world.headers).json
    assert shown["versions"] == [VERSION] and len(shown["questions"]) == survey["question_count"]
    assert {"id", "type", "text"} <= set(shown["questions"][0])
    assert client.get("/api/v1/surveys/introduction-programme?version=7", headers=world.headers).status_code == 404
    assert client.get("/api/v1/surveys/nope", headers=world.headers).status_code == 404


def test_units_are_created_and_listed(client, world):
    created = client.post("/api/v1/units", headers=world.headers, json={"name": " Vest ", "parent_id": world.unit_ids[0]})
    assert created.status_code == 201
    assert created.json == {"id": created.json["id"], "name": "Vest", "parent_id": world.unit_ids[0]}
    names = [unit["name"] for unit in client.get("/api/v1/units", headers=world.headers).json["units"]]
    assert names == ["Nord", "Sør", "Vest"]
    again = client.post("/api/v1/units", headers=world.headers, json={"name": "Vest"})
    assert again.status_code == 409 and again.json["error"]["details"] == {"id": created.json["id"]}


@pytest.mark.parametrize(
    "body, field",
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "A", "parent_id": "1"}, "parent_id"), ({"name": "A", "parent_id": 999}, "parent_id")],
)
def test_bad_units_are_400(client, world, body, field):
    response = client.post("/api/v1/units", headers=world.headers, json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["details"] == {"field": field}


def test_json_endpoints_want_json(client, world):
    response = client.post("/api/v1/units", headers=world.headers, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["error"]["code"] == "unsupported_media_type"
    broken = client.post("/api/v1/units", headers=world.headers, data="{", content_type="application/json")
    assert broken.status_code == 400
    listed = client.post("/api/v1/units", headers=world.headers, json=["name"])
    assert listed.status_code == 400


def test_a_campaign_is_created_read_and_listed(client, world):
    closes = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    body = {"survey": "introduction-programme", "name": "Vår 2027", "unit_ids": world.unit_ids, "closes_at": closes.isoformat().replace("+00:00", "Z")}
    created = client.post("/api/v1/campaigns", headers=world.headers, json=body)
    assert created.status_code == 201, created.json
    campaign = created.json
    assert campaign["status"] == "draft" and campaign["survey"] == {"key": "introduction-programme", "version": VERSION}
    assert campaign["default_language"] == "nb" and campaign["unit_ids"] == world.unit_ids
    assert campaign["closes_at"] == closes.isoformat()
    assert client.get(f"/api/v1/campaigns/{campaign['id']}", headers=world.headers).json == campaign
    assert client.get("/api/v1/campaigns", headers=world.headers).json == {"campaigns": [campaign]}
    english = client.post("/api/v1/campaigns", headers=world.headers, json={**body, "default_language": "en", "survey_version": VERSION})
    assert english.status_code == 201 and english.json["default_language"] == "en"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"survey": "nope"}, "survey"),
        ({"survey_version": 9}, "survey"),
        ({"name": None}, "name"),
        ({"unit_ids": []}, "unit_ids"),
        ({"unit_ids": ["1"]}, "unit_ids"),
        ({"closes_at": "next week"}, "closes_at"),
        ({"closes_at": "2030-01-01T10:00:00"}, "closes_at"),
    ],
)
def test_bad_campaigns_are_400(client, world, change, field):
    body = {"survey": "introduction-programme", "name": "X", "unit_ids": world.unit_ids, **change}
    response = client.post("/api/v1/campaigns", headers=world.headers, json=body)
    assert response.status_code == 400
    assert response.json["error"]["details"] == {"field": field}


@pytest.mark.parametrize(
    "change, message",
    [({"unit_ids": [999]}, "unknown unit"), ({"default_language": "de"}, "language"), ({"closes_at": "2020-01-01T00:00:00Z"}, "past")],
)
def test_campaigns_the_domain_refuses_are_400(client, world, change, message):
    body = {"survey": "introduction-programme", "name": "X", "unit_ids": world.unit_ids, **change}
    response = client.post("/api/v1/campaigns", headers=world.headers, json=body)
    assert response.status_code == 400 and message in response.json["error"]["message"]


def test_launch_progress_and_close_through_the_api(client, runtime, redis, world):
    campaign_id = draft(runtime, world)
    refused = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world.headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "campaign_state"
    rows = [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES[:3]]
    assert client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows}).status_code == 200
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world.headers)
    assert launched.status_code == 200
    assert launched.json["status"] == "open" and launched.json["invitations_queued"] == 3
    assert len(Queue("send", connection=redis).jobs) == 1
    assert client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world.headers).status_code == 409
    progress = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=world.headers).json
    assert (progress["total"], progress["invited"], progress["completed"], progress["response_rate"]) == (3, 3, 0, 0.0)
    assert [unit["invited"] for unit in progress["units"]] == [3, 0]
    closed = client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers)
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["closed_at"]
    assert client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers).status_code == 409
