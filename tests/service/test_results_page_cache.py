"""The admin results page is rendered once per state of its tables and reader, then served from Redis."""
from service.admin import results_page
from service.models import Campaign
from service.models import User
from service.models import UserUnit
from service.models import utcnow
from service.accounts.passwords import hash_password
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import login
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units


def users(runtime, world):
    """An administrator and a coordinator of Alna in the results organisation."""
    with runtime.transaction() as session:
        admin = User(organisation_id=world.organisation_id, email="admin@resultatby.no", role="admin",
                     password_hash=hash_password(PASSWORD))
        coordinator = User(organisation_id=world.organisation_id, email="coord@resultatby.no", role="coordinator",
                           password_hash=hash_password(PASSWORD))
        session.add_all([admin, coordinator])
        session.flush()
        session.add(UserUnit(user_id=coordinator.id, unit_id=world.units["Alna"]))
        session.get(Campaign, world.campaign_id).launched_at = utcnow()
    return admin.email, coordinator.email


def no_rendering(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the page body was rendered again")

    monkeypatch.setattr(results_page, "_rows", refuse)


def test_the_page_is_rendered_once_per_state_and_follows_each_flush(client, runtime, monkeypatch):
    world = campaign_with_units(runtime)
    admin, _coordinator = users(runtime, world)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    login(client, admin)
    path = f"/admin/campaigns/{world.campaign_id}/results"
    first = client.get(path).get_data(as_text=True)
    assert "Alna" in first
    no_rendering(monkeypatch)
    assert client.get(path).get_data(as_text=True) == first
    monkeypatch.undo()
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=2)] * 7)
    after = client.get(path).get_data(as_text=True)
    assert after != first and "Bjerke" in after and ">13<" in after


def test_a_coordinator_never_gets_the_administrators_page(client, app, runtime):
    world = campaign_with_units(runtime)
    admin, coordinator = users(runtime, world)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    add_answers(runtime, world, "Nordstrand", "Spor 1", [answer_set(overall=4)] * 6)
    login(client, admin)
    path = f"/admin/campaigns/{world.campaign_id}/results"
    assert "Nordstrand" in client.get(path).get_data(as_text=True)
    other = app.test_client()
    login(other, coordinator)
    mine = other.get(path).get_data(as_text=True)
    assert "Alna" in mine and "Nordstrand" not in mine
