"""Progress of large campaigns from snapshots: equal to the live count, refreshed when old, cut to a coordinator's units."""
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.progress import snapshot as progress_snapshot
from service.accounts.access import restrict_progress
from service.admin import timeline
from service.accounts.tokens import create_token
from service.models import Campaign
from service.models import Invitation
from service.models import Organisation
from service.models import OutboxMessage
from service.models import User
from service.models import utcnow
from service.progress.rates import progress
from service.progress.counts import daily_counts
from tests.factories import invite_many
from tests.service.admin_support import login
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org
from workers.progress_snapshots import refresh_progress
from workers.progress_snapshots import refresh_viewed_progress

REFRESH = "workers.progress_snapshots.refresh_progress"


@pytest.fixture
def large(monkeypatch):
    """Every campaign counts as large: the views read snapshots."""
    monkeypatch.setattr(progress_snapshot, "LIVE_BELOW", 0)


def open_with_invitations(runtime, org) -> int:
    """An open campaign over both units: invitations, completions on two days, a reminder and a failure."""
    campaign_id = make_campaign(runtime, org)
    now = utcnow()
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.status, campaign.launched_at = "open", now - timedelta(days=2)
        nord = [invitation for invitation, _code in invite_many(session, runtime, campaign, 5)]
        sor = [invitation for invitation, _code in invite_many(session, runtime, campaign, 4)]
        for invitation in sor:
            invitation.unit_id = org.unit_ids[1]
        for invitation in nord + sor:
            invitation.invited_at = now - timedelta(days=2)
        nord[0].status, nord[0].completed_at, nord[0].completed_after = "completed", now - timedelta(days=1), 1
        sor[0].status, sor[0].completed_at = "completed", now
        nord[1].status, sor[1].status = "delivered", "failed"
        session.add(OutboxMessage(channel="sms", kind="reminder", campaign_id=campaign_id, invitation_id=nord[2].id,
                                  status="sent", sent_at=now - timedelta(days=1)))
        session.add(OutboxMessage(channel="sms", kind="invitation", campaign_id=campaign_id, invitation_id=sor[1].id,
                                  status="undelivered", error_code="30005"))
    return campaign_id


def complete_one_more(runtime, campaign_id):
    with runtime.transaction() as session:
        invitation = session.scalars(
            select(Invitation).where(Invitation.campaign_id == campaign_id, Invitation.status == "invited").limit(1)
        ).one()
        invitation.status, invitation.completed_at = "completed", utcnow()


def token(runtime, email):
    with runtime.transaction() as session:
        return create_token(session, session.scalar(select(User).where(User.email == email)), "test")


def refresh_jobs(runtime):
    return [job for job in runtime.queue("default").get_jobs() if job.func_name == REFRESH]


def test_a_snapshot_holds_exactly_the_live_counts(runtime):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    with runtime.session() as session:
        campaign = session.get(Campaign, campaign_id)
        progress_snapshot.refresh(session, runtime, campaign)
        stored = progress_snapshot._decode(runtime.redis.get(f"svar:progress:{campaign_id}"))
        zone = "Europe/Oslo"
        for scope in (None, {org.unit_ids[0]}, {org.unit_ids[1]}, set()):
            assert restrict_progress(stored.progress, scope) == restrict_progress(progress(session, campaign), scope)
            assert timeline.rates(campaign, stored.daily, scope, zone) == timeline.daily_rates(session, campaign, scope, zone)
            assert timeline.markers(campaign, stored.reminders, scope, zone) == timeline.reminder_markers(session, campaign, scope, zone)
            assert timeline.failures(stored.failures, scope) == timeline.delivery_failures(session, campaign, scope)
        assert stored.progress["completed"] == 2 and timeline.failures(stored.failures, None) == [("30005", 1)]
        assert stored.as_of is not None


def test_a_large_campaign_shows_its_snapshot_with_its_time_until_a_worker_counts_again(client, runtime, large):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    headers = {"Authorization": f"Bearer {token(runtime, org.admin)}"}
    first = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json
    assert first["completed"] == 2 and first["as_of"] is None  # counted for this view, and kept
    complete_one_more(runtime, campaign_id)
    again = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json
    assert again["completed"] == 2 and again["as_of"] is not None
    login(client, org.admin)
    page = client.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    assert 'data-figure="completed">2<' in page and "Figures as of" in page
    assert refresh_viewed_progress() == 1
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json["completed"] == 3


def test_an_old_snapshot_queues_one_refresh_and_the_job_counts_again(client, runtime, large, monkeypatch):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    headers = {"Authorization": f"Bearer {token(runtime, org.admin)}"}
    client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers)
    complete_one_more(runtime, campaign_id)
    assert refresh_jobs(runtime) == []
    monkeypatch.setattr(progress_snapshot, "FRESH_SECONDS", -1)
    for _ in range(3):
        assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json["completed"] == 2
    jobs = refresh_jobs(runtime)
    assert len(jobs) == 1 and jobs[0].args == (campaign_id,)
    assert refresh_progress(*jobs[0].args) is True
    assert client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json["completed"] == 3


def test_a_coordinator_gets_only_their_units_from_a_snapshot(client, runtime, large):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    admin = {"Authorization": f"Bearer {token(runtime, org.admin)}"}
    client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=admin)
    coordinator = {"Authorization": f"Bearer {token(runtime, org.coordinator)}"}
    mine = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=coordinator).json
    assert mine["as_of"] is not None
    assert [unit["unit_id"] for unit in mine["units"]] == [org.unit_ids[0]]
    assert (mine["invited"], mine["completed"], mine["failed"]) == (5, 1, 0)
    with runtime.session() as session:
        live = restrict_progress(progress(session, session.get(Campaign, campaign_id)), {org.unit_ids[0]})
    assert {key: value for key, value in mine.items() if key != "as_of"} == live
    login(client, org.coordinator)
    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Figures as of" in page and ">Sør<" not in page and "30005" not in page


def test_closing_or_opening_counts_again_at_once(runtime, large):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    with runtime.session() as session:
        progress_snapshot.current(session, session.get(Campaign, campaign_id))
    complete_one_more(runtime, campaign_id)
    with runtime.transaction() as session:
        session.get(Campaign, campaign_id).status = "closed"
    with runtime.session() as session:
        shown = progress_snapshot.current(session, session.get(Campaign, campaign_id))
    assert shown.status == "closed" and shown.progress["completed"] == 3


def test_only_large_campaigns_someone_looks_at_are_counted_by_the_scheduler(runtime, monkeypatch):
    org = make_org(runtime)
    looked_at = open_with_invitations(runtime, org)
    open_with_invitations(runtime, org)
    with runtime.session() as session:
        progress_snapshot.current(session, session.get(Campaign, looked_at))
    # Nine invitations count live: nothing for the scheduler to do.
    assert refresh_viewed_progress() == 0
    monkeypatch.setattr(progress_snapshot, "LIVE_BELOW", 5)
    assert refresh_viewed_progress() == 1


def test_small_campaigns_are_counted_live_on_every_view(client, runtime):
    org = make_org(runtime)
    campaign_id = open_with_invitations(runtime, org)
    headers = {"Authorization": f"Bearer {token(runtime, org.admin)}"}
    client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers)
    complete_one_more(runtime, campaign_id)
    shown = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=headers).json
    assert shown["completed"] == 3 and shown["as_of"] is None


def test_days_are_local_days_also_where_the_offset_is_not_whole_hours(runtime):
    org = make_org(runtime)
    campaign_id = make_campaign(runtime, org)
    launched = utcnow().replace(year=2026, month=3, day=1, hour=12, minute=0, second=0, microsecond=0)
    with runtime.transaction() as session:
        session.get(Organisation, org.organisation_id).timezone = "Asia/Kolkata"
        campaign = session.get(Campaign, campaign_id)
        campaign.status, campaign.launched_at = "open", launched
        invitations = [invitation for invitation, _code in invite_many(session, runtime, campaign, 3)]
        # 18:15 UTC is 23:45 in Kolkata; 18:45 UTC is 00:15 the next day: the same UTC hour.
        invitations[0].invited_at = launched.replace(hour=18, minute=15)
        invitations[1].invited_at = launched.replace(hour=18, minute=45)
        invitations[2].invited_at = launched.replace(hour=18, minute=45)
        session.flush()
        counts = daily_counts(session, campaign, "Asia/Kolkata")
        assert counts[org.unit_ids[0]]["invited"] == {date(2026, 3, 1): 1, date(2026, 3, 2): 2}
        oslo = daily_counts(session, campaign, "Europe/Oslo")
        assert oslo[org.unit_ids[0]]["invited"] == {date(2026, 3, 1): 3}
