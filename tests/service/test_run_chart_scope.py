"""The results page's run chart (issue 15, item 3): a coordinator sees only waves she may open."""
from datetime import timedelta

from service.models import Campaign
from service.models import utcnow
from tests.service.admin_support import login
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org
from tests.service.results_data import Answers
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set


def launched(runtime, org, unit_ids, name, days_ago) -> int:
    campaign_id = make_campaign(runtime, org, unit_ids=unit_ids, name=name)
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.status, campaign.launched_at = "open", utcnow() - timedelta(days=days_ago)
    return campaign_id


def test_a_coordinators_run_chart_names_no_campaign_she_cannot_open(client, runtime):
    org = make_org(runtime)
    nord, sor = org.unit_ids
    units = {"Nord": nord, "Sør": sor}
    other = launched(runtime, org, [sor], "Sør våren 2025", days_ago=300)
    earlier = launched(runtime, org, [nord, sor], "Felles høsten 2025", days_ago=100)
    current = launched(runtime, org, [nord], "Nord høsten 2026", days_ago=1)
    for campaign_id, unit in ((other, "Sør"), (earlier, "Nord"), (current, "Nord")):
        add_answers(runtime, Answers(campaign_id, org.organisation_id, units, {}), unit, None, [answer_set(overall=5)] * 6)

    login(client, org.coordinator)
    page = client.get(f"/admin/campaigns/{current}/results").get_data(as_text=True)
    assert "Felles høsten 2025" in page and "Nord høsten 2026" in page
    assert "Sør våren 2025" not in page

    admin = client.application.test_client()
    login(admin, org.admin)
    assert "Sør våren 2025" in admin.get(f"/admin/campaigns/{current}/results").get_data(as_text=True)
