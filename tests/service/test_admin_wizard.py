"""The launch wizard through the test client: each step, errors next to fields, the launch, the progress page."""
import io
import re

from sqlalchemy import select

from service.models import AuditEvent
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import ReminderPolicy
from tests.service.admin_support import login
from tests.service.admin_support import make_org
from tests.service.admin_support import post
from tests.service.admin_support import csrf

CSV = "telefon;språk;enhet\n+47 912 34 567;nb;Nord\n+4791234568;en;Sør\nnot a phone;nb;Nord\n+4791234567;nb;Nord\n"


def test_an_admin_launches_a_campaign_through_the_wizard(client, runtime):
    org = make_org(runtime)
    login(client, org.admin)
    page = client.get("/admin/campaigns/new").get_data(as_text=True)
    version = re.search(r'<option value="(\d+)"', page).group(1)

    response = post(client, "/admin/campaigns/new", {"name": "", "survey_version": version, "closes_at": "2020-01-01T12:00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="name-error"' in page and 'id="closes_at-error"' in page and 'value="2020-01-01T12:00"' in page

    response = post(client, "/admin/campaigns/new", {"name": "Høst 2026", "survey_version": version, "closes_at": "2099-11-30T16:00"})
    assert response.status_code == 302
    campaign_id = int(re.search(r"/campaigns/(\d+)/setup/units", response.headers["Location"]).group(1))

    response = post(client, f"/admin/campaigns/{campaign_id}/setup/units", {})
    assert response.status_code == 400 and 'id="unit_ids-error"' in response.get_data(as_text=True)
    response = post(client, f"/admin/campaigns/{campaign_id}/setup/units", {"unit_ids": [str(u) for u in org.unit_ids]})
    assert response.headers["Location"].endswith("/setup/respondents")

    path = f"/admin/campaigns/{campaign_id}/setup/respondents"
    response = client.post(path, data={"csrf_token": csrf(client, path), "action": "upload",
                                       "file": (io.BytesIO(CSV.encode()), "list.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 respondents added." in page
    assert "<th scope=\"row\">4</th>" in page and "<th scope=\"row\">5</th>" in page  # bad row and duplicate, by line
    assert "912 34 567" not in page and "91234567" not in page  # numbers are masked

    response = post(client, path, {"action": "codes", "unit_id": str(org.unit_ids[0]), "language": "nb", "count": "0"})
    assert response.status_code == 400 and 'id="count-error"' in response.get_data(as_text=True)
    response = post(client, path, {"action": "codes", "unit_id": str(org.unit_ids[0]), "language": "nb", "count": "3"})
    sheet = response.get_data(as_text=True)
    assert response.status_code == 200 and len(re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}", sheet)) >= 3
    assert "'sha256-" in response.headers["Content-Security-Policy"]

    path = f"/admin/campaigns/{campaign_id}/setup/languages"
    page = client.get(path).get_data(as_text=True)
    assert "Parts per invitation" in page or "GSM" in page
    response = post(client, path, {"languages": ["en"], "default_language": "nb", "channels": ["sms", "paper"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="languages-error"' in page and 'id="default_language-error"' in page
    response = post(client, path, {"languages": ["nb", "en"], "default_language": "nb", "channels": ["sms", "paper"]})
    assert response.headers["Location"].endswith("/setup/reminders")

    path = f"/admin/campaigns/{campaign_id}/setup/reminders"
    response = post(client, path, {"offsets_days": "3, x", "window_start": "09:00", "window_end": "20:00", "weekdays": ["1"]})
    assert response.status_code == 400 and 'value="3, x"' in response.get_data(as_text=True)
    response = post(client, path, {"offsets_days": "3, 7", "last_chance_days": "2", "window_start": "09:00",
                                   "window_end": "20:00", "weekdays": ["1", "2", "3", "4", "5"]})
    assert response.headers["Location"].endswith("/setup/review")

    review = client.get(f"/admin/campaigns/{campaign_id}/setup/review").get_data(as_text=True)
    assert "Høst 2026" in review and "Nord" in review
    response = post(client, f"/admin/campaigns/{campaign_id}/launch", {}, page=f"/admin/campaigns/{campaign_id}/setup/review")
    assert response.status_code == 302

    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.status == "open" and campaign.languages == ["nb", "en"]
        assert session.get(ReminderPolicy, campaign_id).offsets_days == [3, 7]
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.campaign_id == campaign_id).limit(1))
        assert len(session.scalars(select(Invitation).where(Invitation.campaign_id == campaign_id)).all()) == 5
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "launched")).object_id == str(campaign_id)

    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'data-figure="invited">5<' in page and "admin-refresh.js" in page
    assert client.get(f"/admin/campaigns/{campaign_id}/setup/units").status_code == 302  # no setup after launch
