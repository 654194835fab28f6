"""The progress page tells delivery failures by reason, in plain words, per campaign, naming no respondent."""
import itertools
import re

from service.models import Campaign
from service.models import OutboxMessage
from tests.factories import invite
from tests.service.admin_support import login
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org

PHONE = "+4791234567"
ROW = re.compile(r'<tr><th scope="row">([^<]*)</th><td><code>([^<]*)</code></td><td class="num">([^<]*)</td></tr>')
_numbers = itertools.count(PHONE_FIRST := 91234567)


def fail(session, runtime, campaign, unit_id, status, code):
    phone = f"+47{next(_numbers)}"
    invitation, _code = invite(session, runtime, campaign, phone=phone)
    invitation.unit_id = unit_id
    session.add(OutboxMessage(channel="sms", kind="invitation", campaign_id=campaign.id, invitation_id=invitation.id,
                              status=status, error_code=code, error_message=f"to {phone}"))


def test_failures_by_reason_in_plain_words_per_campaign(app, client, runtime):
    org = make_org(runtime)
    campaign_id = make_campaign(runtime, org)
    other_id = make_campaign(runtime, org, name="Vår 2027")
    nord, sor = org.unit_ids
    with runtime.transaction() as session:
        campaign, other = session.get(Campaign, campaign_id), session.get(Campaign, other_id)
        campaign.status = other.status = "open"
        for _ in range(2):
            fail(session, runtime, campaign, nord, "failed", "21211")
        fail(session, runtime, campaign, nord, "failed", "21610")
        fail(session, runtime, campaign, nord, "undelivered", None)
        fail(session, runtime, campaign, sor, "undelivered", "30004")
        fail(session, runtime, campaign, sor, "failed", "chat_id")
        fail(session, runtime, other, nord, "failed", "30005")
    login(client, org.admin)
    page = client.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    failures = page[page.index('id="failures-heading"'):]
    assert ROW.findall(failures) == [
        ("Not a valid phone number", "21211", "2"),
        ("The recipient has unsubscribed (STOP)", "21610", "1"),
        ("Blocked by the recipient or the operator", "30004", "1"),
        ("Not a valid Telegram chat", "chat_id", "1"),
        ("Not delivered to the phone; the operator gave no reason", "undelivered", "1"),
    ]
    # Per campaign: the other campaign's failure is on its own page only.
    other_page = client.get(f"/admin/campaigns/{other_id}/live").get_data(as_text=True)
    assert ROW.findall(other_page) == [("Number unknown or no longer in use", "30005", "1")]
    # Nobody is named: no number, whole or in part, and no message text.
    assert "+47" not in page and str(PHONE_FIRST) not in page and "to +47" not in page
    # A coordinator of Nord sees Nord's failures only.
    coordinator = app.test_client()
    coordinator.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(coordinator, org.coordinator)
    mine = coordinator.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    assert [row[1] for row in ROW.findall(mine)] == ["21211", "21610", "undelivered"]


def test_every_code_the_send_side_writes_has_a_sentence(app):
    from service.admin.labels import failure_reason

    with app.test_request_context(headers={"Accept-Language": "en"}):
        for code in ("403", "400", "401", "429", "chat_id", "attempts", "undelivered", "unknown", "campaign_closed", "opted_out"):
            assert not failure_reason(code).startswith("Provider error"), code
