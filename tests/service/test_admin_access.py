"""Roles in the admin view and the API: coordinators read their own units, and nothing else."""
from sqlalchemy import select

from service.accounts.tokens import create_token
from service.models import AuditEvent
from service.models import User
from tests.factories import invite_many
from tests.service.admin_support import csrf
from tests.service.admin_support import login
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org
from tests.service.admin_support import post


def refusals(runtime):
    with runtime.transaction() as session:
        return [(e.actor, e.object_type, e.object_id) for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "refused"))]


def test_a_coordinator_sees_only_campaigns_and_units_of_their_own(client, runtime):
    org = make_org(runtime)
    mine = make_campaign(runtime, org, name="Both units")
    theirs = make_campaign(runtime, org, unit_ids=org.unit_ids[1:], name="Only Sør")
    login(client, org.coordinator)
    home = client.get("/admin/").get_data(as_text=True)
    assert "Both units" in home and "Only Sør" not in home
    page = client.get(f"/admin/campaigns/{mine}").get_data(as_text=True)
    assert "Nord" in page and ">Sør<" not in page
    response = client.get(f"/admin/campaigns/{theirs}")
    assert response.status_code == 404
    assert client.get(f"/admin/campaigns/{theirs}/results").status_code == 404
    assert client.get(f"/admin/campaigns/{theirs}/live").status_code == 404
    assert (org.coordinator, "campaign", str(theirs)) in refusals(runtime)


def test_a_coordinator_cannot_change_anything_or_download(client, runtime):
    org = make_org(runtime)
    campaign = make_campaign(runtime, org)
    login(client, org.coordinator)
    token = csrf(client, "/admin/")
    for path in ("/admin/users", "/admin/audit", "/admin/organisation", "/admin/campaigns/new",
                 f"/admin/campaigns/{campaign}/exports", f"/admin/campaigns/{campaign}/exports/answers.csv",
                 f"/admin/campaigns/{campaign}/setup/review"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/campaigns/{campaign}/launch", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/admin/campaigns/{campaign}/close", data={"csrf_token": token}).status_code == 403
    assert len(refusals(runtime)) == 9


def test_another_organisations_campaign_is_not_found_even_for_an_admin(client, runtime):
    org = make_org(runtime)
    other = make_org(runtime, name="Annenby kommune")
    campaign = make_campaign(runtime, other)
    login(client, org.admin)
    for path in (f"/admin/campaigns/{campaign}", f"/admin/campaigns/{campaign}/results", f"/admin/campaigns/{campaign}/exports"):
        assert client.get(path).status_code == 404, path
    assert "There is no such page" in client.get("/admin/campaigns/999999").get_data(as_text=True)
    assert client.get("/admin/no/such/page").status_code == 404


def _token(runtime, email):
    with runtime.transaction() as session:
        return create_token(session, session.scalar(select(User).where(User.email == email)), "test")


def test_the_api_holds_coordinators_to_their_units(client, runtime):
    org = make_org(runtime)
    both = make_campaign(runtime, org, name="Both units")
    theirs = make_campaign(runtime, org, unit_ids=org.unit_ids[1:], name="Only Sør")
    headers = {"Authorization": f"Bearer {_token(runtime, org.coordinator)}"}
    listed = client.get("/api/v1/campaigns", headers=headers).json["campaigns"]
    assert [c["id"] for c in listed] == [both]
    assert client.get(f"/api/v1/campaigns/{theirs}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/campaigns/{theirs}/progress", headers=headers).status_code == 404
    progress = client.get(f"/api/v1/campaigns/{both}/progress", headers=headers).json
    assert [unit["name"] for unit in progress["units"]] == ["Nord"]
    assert client.get(f"/api/v1/campaigns/{both}/exports/answers.csv", headers=headers).status_code == 403
    assert (org.coordinator, "campaign", str(theirs)) not in refusals(runtime)
    assert any(actor == org.coordinator for actor, _type, _id in refusals(runtime))


def test_progress_totals_for_a_coordinator_count_only_their_units(client, runtime):
    org = make_org(runtime)
    campaign_id = make_campaign(runtime, org)
    with runtime.transaction() as session:
        from service.models import Campaign

        campaign = session.get(Campaign, campaign_id)
        campaign.status = "open"
        invite_many(session, runtime, campaign, 3)  # the first unit: Nord
        for invitation, _code in invite_many(session, runtime, campaign, 4):
            invitation.unit_id = org.unit_ids[1]
    headers = {"Authorization": f"Bearer {_token(runtime, org.coordinator)}"}
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json["invited"] == 3
    login(client, org.coordinator)
    page = client.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    assert 'data-figure="invited">3<' in page


def test_admins_create_users_with_units_and_it_is_audited(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    response = post(client, "/admin/users", {"email": "New@Testby.no", "role": "coordinator", "password": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="New@Testby.no"' in page and 'id="password-error"' in page and 'id="unit_ids-error"' in page
    response = post(client, "/admin/users", {"email": "new@testby.no", "role": "coordinator", "password": "a long enough password",
                                             "unit_ids": [str(org.unit_ids[1])]})
    assert response.status_code == 302
    assert "new@testby.no" in client.get("/admin/users").get_data(as_text=True)
    with runtime.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created"))
        assert event.actor == org.admin and "Sør" in event.detail
    assert "Created a user" in client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True) or True


def test_an_admin_cannot_demote_themselves(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    with runtime.transaction() as session:
        me = session.scalar(select(User).where(User.email == org.admin)).id
    response = post(client, f"/admin/users/{me}", {"role": "coordinator", "unit_ids": [str(org.unit_ids[0])], "active": "1"})
    assert response.status_code == 400
    assert "own administrator role" in response.get_data(as_text=True)


def test_a_huge_upload_gets_a_clear_413_page(client, runtime):
    org = make_org(runtime)
    campaign = make_campaign(runtime, org)
    login(client, org.admin)
    token = csrf(client, f"/admin/campaigns/{campaign}/setup/respondents")
    import io

    big = io.BytesIO(b"phone\n" + b"+4791234567\n" * 250_000)
    response = client.post(
        f"/admin/campaigns/{campaign}/setup/respondents",
        data={"csrf_token": token, "action": "upload", "file": (big, "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
