"""POST /webhooks/twilio/status: delivery reports move outbox rows and invitations forward only."""
import pytest
from twilio.request_validator import RequestValidator

from service.models import Invitation
from service.models import OptOut
from service.models import OutboxMessage
from tests import outbox_rows

URL = "https://svar.example.org/webhooks/twilio/status"
SID = "SM" + "b" * 32


def report(client, config, status, sid=SID, error_code=None, signed_url=URL):
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": config.twilio_account_sid, "To": "+4791234567"}
    if error_code:
        form["ErrorCode"] = error_code
    signature = RequestValidator(config.twilio_auth_token).compute_signature(signed_url, form)
    return client.post("/webhooks/twilio/status", data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def sent(runtime):
    """An invitation whose SMS Twilio accepted: outbox "sent", invitation "invited"."""
    with runtime.transaction() as session:
        campaign = outbox_rows.campaign(session)
        invitation = outbox_rows.invitation(session, runtime, campaign, status="invited")
        row = outbox_rows.outbox(session, runtime, invitation, status="sent", provider_id=SID, body=None, address_enc=None)
        return row.id, invitation.id


def states(runtime, sent):
    outbox_id, invitation_id = sent
    with runtime.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        invitation = session.get(Invitation, invitation_id)
        return row.status, row.error_code, invitation.status, invitation.delivered_at


def test_delivered_marks_row_and_invitation(client, config, runtime, sent):
    assert report(client, config, "delivered").status_code == 200
    status, error, invitation, delivered_at = states(runtime, sent)
    assert (status, error, invitation) == ("delivered", None, "delivered")
    assert delivered_at is not None


def test_statuses_only_move_forward(client, config, runtime, sent):
    for status in ("queued", "sending", "sent"):
        report(client, config, status)
    assert states(runtime, sent)[:3] == ("sent", None, "invited")
    report(client, config, "delivered")
    report(client, config, "sent")  # late, out of order
    report(client, config, "undelivered", error_code="30003")
    assert states(runtime, sent)[:3] == ("delivered", None, "delivered")


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_failures_are_terminal(client, config, runtime, sent, status):
    report(client, config, status, error_code="30005")
    assert states(runtime, sent)[:3] == (status, "30005", "failed")
    report(client, config, "delivered")
    assert states(runtime, sent)[:3] == (status, "30005", "failed")


def test_a_started_invitation_is_not_marked_failed(client, config, runtime, sent):
    with runtime.transaction() as session:
        session.get(Invitation, sent[1]).status = "started"
    report(client, config, "undelivered", error_code="30003")
    assert states(runtime, sent)[:3] == ("undelivered", "30003", "started")


def test_unsubscribed_recipient_opts_out(client, config, runtime, sent):
    assert report(client, config, "failed", error_code="21610").status_code == 200
    assert states(runtime, sent)[:3] == ("failed", "21610", "opted_out")
    with runtime.session() as session:
        [opt_out] = session.query(OptOut).all()
        assert opt_out.address_hash == runtime.vault.address_hash("sms", outbox_rows.PHONE)


def test_a_reply_that_is_delivered_touches_no_invitation(client, config, runtime):
    with runtime.transaction() as session:
        invitation = outbox_rows.invitation(session, runtime, outbox_rows.campaign(session), status="started")
        row = outbox_rows.outbox(session, runtime, invitation, kind="reply", status="sent", provider_id=SID)
        ids = row.id, invitation.id
    report(client, config, "delivered")
    assert states(runtime, ids)[:3] == ("delivered", None, "started")


def test_unknown_sid_is_acknowledged_and_ignored(client, config, runtime, sent):
    assert report(client, config, "delivered", sid="SM" + "c" * 32).status_code == 200
    assert states(runtime, sent)[:3] == ("sent", None, "invited")


def test_unsigned_forged_and_malformed_reports_are_refused(client, config, runtime, sent):
    response = client.post("/webhooks/twilio/status", data={"MessageSid": SID, "MessageStatus": "delivered"})
    assert response.status_code == 403
    assert report(client, config, "delivered", signed_url="https://evil.example.com/webhooks/twilio/status").status_code == 403
    assert report(client, config, "").status_code == 400
    assert report(client, config, "delivered", sid="").status_code == 400
    assert states(runtime, sent)[:3] == ("sent", None, "invited")


def test_a_carrier_opt_out_on_a_reply_already_deleted_still_opts_the_number_out(client, config, runtime):
    """A finished conversation's replies are gone (A1); the report's To still finds the invitations to that number."""
    with runtime.transaction() as session:
        campaign = outbox_rows.campaign(session)
        invitation = outbox_rows.invitation(session, runtime, campaign, status="completed")
        other = outbox_rows.invitation(session, runtime, outbox_rows.campaign(session, name="Other"), status="invited")
        elsewhere = outbox_rows.invitation(session, runtime, outbox_rows.campaign(session, name="Third"), phone="+4791234500", status="invited")
        ids = invitation.id, other.id, elsewhere.id
    assert report(client, config, "undelivered", sid="SM" + "d" * 32, error_code="21610").status_code == 200
    address_hash = runtime.vault.address_hash("sms", outbox_rows.PHONE)
    with runtime.session() as session:
        opted = sorted((row.organisation_id, row.address_hash) for row in session.query(OptOut).all())
        statuses = [session.get(Invitation, invitation_id).status for invitation_id in ids]
        organisations = sorted(session.get(Invitation, invitation_id).campaign.organisation_id for invitation_id in ids[:2])
    assert opted == [(organisation_id, address_hash) for organisation_id in organisations]
    assert statuses == ["completed", "opted_out", "invited"]


def test_a_carrier_opt_out_for_a_number_nobody_invited_records_nothing(client, config, runtime):
    assert report(client, config, "undelivered", sid="SM" + "e" * 32, error_code="21610").status_code == 200
    with runtime.session() as session:
        assert session.query(OptOut).all() == []
