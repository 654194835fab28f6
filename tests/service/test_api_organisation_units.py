"""The organisation model through the API: settings, the unit tree and its rules, groups."""
import pytest

from tests.service.api_data import add_user
from tests.service.api_data import make_world


@pytest.fixture
def world(runtime):
    return make_world(runtime, units=())


def post_unit(client, world, name, parent_id=None):
    return client.post("/api/v1/units", headers=world.headers, json={"name": name, "parent_id": parent_id})


def test_units_build_a_tree_of_service_areas_and_institutions(client, world):
    area = post_unit(client, world, "Flyktningtjenesten").json["id"]
    school = post_unit(client, world, "Voksenopplæringen").json["id"]
    north = post_unit(client, world, "Introsenteret Nord", area).json["id"]
    south = post_unit(client, world, "Introsenteret Sør", area).json["id"]
    class_a = post_unit(client, world, "Klasse A", school).json["id"]
    tree = client.get("/api/v1/units/tree", headers=world.headers).json["units"]
    assert tree == [
        {"id": area, "name": "Flyktningtjenesten", "parent_id": None, "children": [
            {"id": north, "name": "Introsenteret Nord", "parent_id": area, "children": []},
            {"id": south, "name": "Introsenteret Sør", "parent_id": area, "children": []},
        ]},
        {"id": school, "name": "Voksenopplæringen", "parent_id": None, "children": [
            {"id": class_a, "name": "Klasse A", "parent_id": school, "children": []},
        ]},
    ]
    moved = client.patch(f"/api/v1/units/{class_a}", headers=world.headers, json={"parent_id": area, "name": "Klasse A1"})
    assert moved.status_code == 200 and moved.json == {"id": class_a, "name": "Klasse A1", "parent_id": area}
    top = client.patch(f"/api/v1/units/{class_a}", headers=world.headers, json={"parent_id": None})
    assert top.json["parent_id"] is None


def test_a_unit_cannot_go_under_itself_its_children_or_another_organisation(client, runtime, world):
    area = post_unit(client, world, "Område").json["id"]
    child = post_unit(client, world, "Barn", area).json["id"]
    grandchild = post_unit(client, world, "Barnebarn", child).json["id"]
    other = make_world(runtime, name="Annenby kommune", units=("Deres",))
    for unit_id, parent_id, message in [
        (area, area, "a unit cannot be placed under itself or one of its own units"),
        (area, grandchild, "a unit cannot be placed under itself or one of its own units"),
        (child, other.unit_ids[0], "parent_id is not a unit of your organisation"),
    ]:
        response = client.patch(f"/api/v1/units/{unit_id}", headers=world.headers, json={"parent_id": parent_id})
        assert response.status_code == 400 and response.json["error"]["message"] == message
    assert post_unit(client, world, "Ny", other.unit_ids[0]).status_code == 400
    # Another organisation's unit is not found at all.
    assert client.patch(f"/api/v1/units/{other.unit_ids[0]}", headers=world.headers, json={"name": "X"}).status_code == 404
    taken = client.patch(f"/api/v1/units/{child}", headers=world.headers, json={"name": "Område"})
    assert taken.status_code == 409 and taken.json["error"]["details"] == {"id": area}
    assert client.patch(f"/api/v1/units/{child}", headers=world.headers, json={}).status_code == 400


def test_groups_are_created_and_listed(client, runtime, world):
    ids = [client.post("/api/v1/groups", headers=world.headers, json={"name": f"Spor {n}"}).json["id"] for n in (1, 2, 3)]
    listed = client.get("/api/v1/groups", headers=world.headers).json["groups"]
    assert listed == [{"id": ids[n], "name": f"Spor {n + 1}"} for n in range(3)]
    again = client.post("/api/v1/groups", headers=world.headers, json={"name": "Spor 1"})
    assert again.status_code == 409 and again.json["error"]["details"] == {"id": ids[0]}
    assert client.post("/api/v1/groups", headers=world.headers, json={"name": " "}).status_code == 400
    # Coordinators read groups (creating them is for administrators, as every POST).
    coordinator = {"Authorization": f"Bearer {add_user(runtime, world, 'coordinator')}"}
    assert client.get("/api/v1/groups", headers=coordinator).json["groups"] == listed


def test_organisation_settings_are_validated(client, world):
    shown = client.get("/api/v1/organisation", headers=world.headers).json
    assert shown["timezone"] == "Europe/Oslo" and shown["region"] == "NO"
    changed = client.patch("/api/v1/organisation", headers=world.headers, json={"timezone": "Europe/Copenhagen", "default_language": "DA", "region": "dk"})
    assert changed.status_code == 200
    assert {key: changed.json[key] for key in ("timezone", "default_language", "region")} == {"timezone": "Europe/Copenhagen", "default_language": "da", "region": "DK"}
    for body, message in [
        ({"timezone": "Europe/Atlantis"}, "timezone 'Europe/Atlantis' is not a known time zone"),
        ({"timezone": "../../etc/passwd"}, "is not a known time zone"),
        ({"default_language": "klingon"}, "default_language 'klingon' is not a known language code"),
        ({"region": "XX"}, "region must be a two-letter country code"),
        ({"colour": "red"}, "unknown setting: colour"),
    ]:
        response = client.patch("/api/v1/organisation", headers=world.headers, json=body)
        assert response.status_code == 400 and message in response.json["error"]["message"], body
    # Nothing of a refused change was kept.
    assert client.get("/api/v1/organisation", headers=world.headers).json["timezone"] == "Europe/Copenhagen"


@pytest.mark.parametrize("name", ["\x00", "Spor\x001", "Nord\x1b[31m", "Sør\u0085"])
def test_names_with_control_characters_are_refused_with_a_sentence(client, world, name):
    # PostgreSQL refuses NUL in text: found by schemathesis as a 500 on POST /groups.
    for path in ("/api/v1/groups", "/api/v1/units"):
        response = client.post(path, headers=world.headers, json={"name": name})
        assert response.status_code == 400, (path, response.get_data(as_text=True))
        assert "control characters" in response.get_data(as_text=True)
    assert client.get("/api/v1/groups", headers=world.headers).json["groups"] == []
