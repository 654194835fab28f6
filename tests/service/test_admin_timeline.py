"""The progress chart's data: daily response rates, reminder days, delivery failures, and its SVG geometry."""
from datetime import timedelta

from service.admin import charts
from service.admin import timeline
from service.models import OutboxMessage
from tests.factories import NOW
from tests.factories import invite_many
from tests.factories import open_campaign


def test_daily_rates_and_reminder_markers_by_local_day(runtime):
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        campaign.launched_at = NOW - timedelta(days=2)
        campaign.closed_at = NOW
        invitations = [inv for inv, _code in invite_many(session, runtime, campaign, 4, phone=None)]
        for number, invitation in enumerate(invitations):
            invitation.invited_at = NOW - timedelta(days=2)
        invitations[0].status, invitations[0].completed_at = "completed", NOW - timedelta(days=2)
        invitations[1].status, invitations[1].completed_at = "completed", NOW
        for invitation in invitations[2:]:
            session.add(OutboxMessage(channel="sms", kind="reminder", campaign_id=campaign.id, invitation_id=invitation.id,
                                      status="sent", sent_at=NOW - timedelta(days=1)))
        session.add(OutboxMessage(channel="sms", kind="invitation", campaign_id=campaign.id, invitation_id=invitations[3].id,
                                  status="undelivered", error_code="30005"))
        session.flush()
        days = timeline.daily_rates(session, campaign, None, "Europe/Oslo")
        assert [(d.invited, d.completed) for d in days] == [(4, 1), (4, 1), (4, 2)]
        assert [round(d.rate, 2) for d in days] == [0.25, 0.25, 0.5]
        markers = timeline.reminder_markers(session, campaign, None, "Europe/Oslo")
        assert [(m.kind, m.number, m.messages) for m in markers] == [("invitation", 0, 0), ("reminder", 1, 2)]
        assert markers[1].day == days[1].day
        assert timeline.delivery_failures(session, campaign, None) == [("30005", 1)]
        # A coordinator of another unit sees none of it.
        assert timeline.daily_rates(session, campaign, set(), "Europe/Oslo")[-1].invited == 0
        assert timeline.delivery_failures(session, campaign, set()) == []

        chart = charts.rate_chart(days, markers, lambda day: day.isoformat())
        assert len(chart["points"]) == 3 and len(chart["markers"]) == 2
        top, bottom = chart["plot"]["top"], chart["plot"]["bottom"]
        assert chart["points"][2][1] == (top + bottom) / 2  # 50 % halfway up
        assert chart["markers"][1]["x"] == chart["points"][1][0]


def test_a_run_chart_breaks_its_line_where_a_wave_is_hidden():
    waves = [{"label": "2024", "value": 4.0}, {"label": "2025", "value": None}, {"label": "2026", "value": 5.0}]
    chart = charts.run_chart(waves, 1, 6)
    assert len(chart["segments"]) == 2 and len(chart["points"]) == 2
    assert chart["median"]["value"] == 4.5
    assert charts.run_chart([{"label": "x", "value": None}], 1, 6) is None
