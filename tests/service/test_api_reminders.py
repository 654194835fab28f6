"""The reminder policy over the API: defaults, setting it, every problem at once, roles."""
from datetime import timedelta

import pytest

from service.models import Invitation
from service.models import utcnow
from tests.service.api_data import add_user
from tests.service.api_data import draft
from tests.service.api_data import make_world


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def url(campaign_id):
    return f"/api/v1/campaigns/{campaign_id}/reminders"


def test_the_defaults_and_their_schedule(client, runtime, world):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=21))
    body = client.get(url(campaign_id), headers=world.headers).json
    assert {key: body[key] for key in ("offsets_days", "last_chance_days", "nudge_after_hours", "window", "timezone")} == {
        "offsets_days": [3, 7, 10],
        "last_chance_days": 2,
        "nudge_after_hours": 24,
        "window": {"start": "09:00", "end": "20:00", "weekdays": [1, 2, 3, 4, 5, 6, 7]},
        "timezone": "Europe/Oslo",
    }
    kinds = [step["kind"] for step in body["schedule"]["reminders"]]
    assert kinds == ["reminder", "reminder", "reminder", "last_chance"]


def test_a_policy_is_stored_and_read_back(client, runtime, world):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=30))
    policy = {
        "offsets_days": [10, 4],
        "last_chance_days": 3,
        "nudge_after_hours": None,
        "window": {"start": "10:00", "end": "18:30", "weekdays": [1, 2, 3, 4, 5]},
        "timezone": "Europe/Copenhagen",
    }
    saved = client.put(url(campaign_id), headers=world.headers, json=policy)
    assert saved.status_code == 200, saved.json
    assert saved.json["offsets_days"] == [4, 10] and saved.json["timezone"] == "Europe/Copenhagen"
    read = client.get(url(campaign_id), headers=world.headers).json
    assert {key: read[key] for key in policy} == {**policy, "offsets_days": [4, 10]}
    for step in read["schedule"]["reminders"]:
        assert step["at"] < (utcnow() + timedelta(days=30)).isoformat()


def test_every_problem_is_reported_at_once(client, runtime, world):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=8))
    response = client.put(
        url(campaign_id),
        headers=world.headers,
        json={"offsets_days": [3, 3, 14, -1], "timezone": "Europe/Olso", "window": {"start": "21:00", "end": "08:00"}},
    )
    assert response.status_code == 400
    problems = response.json["error"]["details"]["problems"]
    assert any("time zone named 'Europe/Olso'" in problem for problem in problems)
    assert any("leaves no time to send" in problem for problem in problems)
    assert any("must differ" in problem for problem in problems)
    assert any("from 1 to 90" in problem for problem in problems)
    assert client.get(url(campaign_id), headers=world.headers).json["offsets_days"] == [3, 7, 10]


def test_offsets_past_closing_are_refused(client, runtime, world):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=8))
    response = client.put(url(campaign_id), headers=world.headers, json={"offsets_days": [3, 10]})
    assert response.status_code == 400
    assert "reminders 10 days after the invitation fall after the campaign closes" in response.json["error"]["message"]


def test_coordinators_read_but_do_not_set(client, runtime, world):
    campaign_id = draft(runtime, world)
    token = add_user(runtime, world, "coordinator", world.unit_ids)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(url(campaign_id), headers=headers).status_code == 200
    assert client.put(url(campaign_id), headers=headers, json={}).status_code == 403
    other = make_world(runtime, name="Annenby kommune")
    assert client.get(url(campaign_id), headers=other.headers).status_code == 404


def test_a_new_policy_makes_the_sweep_look_at_open_invitations_again(client, runtime, world):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=30))
    rows = [{"phone": "+4791234567", "unit_id": world.unit_ids[0]}]
    client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows})
    assert client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=world.headers).status_code == 200
    before = utcnow()
    assert client.put(url(campaign_id), headers=world.headers, json={"offsets_days": [5]}).status_code == 200
    with runtime.session() as session:
        [invitation] = session.query(Invitation).all()
        assert before <= invitation.next_reminder_at <= utcnow()
    client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers)
    assert client.put(url(campaign_id), headers=world.headers, json={}).status_code == 409
