"""Outbox rows with the campaign and invitation behind them, built straight from the models."""
from datetime import datetime
from datetime import timezone

from service.outbox import code_slots
from service.models import Campaign
from service.models import Invitation
from service.models import Organisation
from service.models import OutboxMessage
from service.models import ReminderPolicy
from service.models import SurveyVersion
from service.models import Unit

PHONE = "+4791234567"
NOW = datetime(2026, 10, 5, 10, 0, tzinfo=timezone.utc)
ALWAYS_OPEN = {
    "offsets_days": [3, 7, 10],
    "last_chance_days": 2,
    "nudge_after_hours": 24,
    "window_start": "00:00",
    "window_end": "24:00",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
}


def campaign(session, name="Outbox test") -> Campaign:
    organisation = Organisation(name=f"{name} kommune")
    survey = SurveyVersion(key=f"{name}-survey", version=1, sha256="0" * 64, source="key: test")
    session.add_all([organisation, survey])
    session.flush()
    unit = Unit(organisation_id=organisation.id, name="Introduksjonssenteret")
    row = Campaign(organisation_id=organisation.id, survey_version_id=survey.id, name=name, status="open", units=[unit])
    session.add(row)
    session.flush()
    # Send tests run on the real clock: a window open all day keeps them from depending on the hour.
    session.add(ReminderPolicy(campaign_id=row.id, **ALWAYS_OPEN))
    session.flush()
    return row


def invitation(session, runtime, campaign, phone=PHONE, status="created") -> Invitation:
    row = Invitation(
        campaign_id=campaign.id,
        unit_id=campaign.units[0].id,
        channel="sms",
        language="nb",
        code_hash=runtime.vault.code_hash(f"code-{phone}-{campaign.id}"),
        address_enc=runtime.vault.encrypt(phone),
        address_hash=runtime.vault.address_hash("sms", phone),
        status=status,
    )
    session.add(row)
    session.flush()
    return row


def outbox(session, runtime, invitation=None, kind="invitation", phone=PHONE, body="Hei! Svar på undersøkelsen.", **values):
    """One outbox row, pending unless told otherwise."""
    fields = {
        "channel": "sms",
        "address_enc": runtime.vault.encrypt(phone),
        "body": body,
        "kind": kind,
        "campaign_id": invitation.campaign_id if invitation is not None else None,
        "invitation_id": invitation.id if invitation is not None else None,
    }
    row = OutboxMessage(**{**fields, **values})
    session.add(row)
    session.flush()
    return row


def outbox_for_new_invitation(runtime, phone=PHONE, kind="invitation", **values) -> tuple[int, int]:
    """Commit a campaign, an invitation and its outbox row; returns (outbox id, invitation id)."""
    with runtime.transaction() as session:
        invite = invitation(session, runtime, campaign(session, name=f"c-{phone}"), phone=phone)
        row = outbox(session, runtime, invite, kind=kind, phone=phone, **values)
        return row.id, invite.id


def as_sent(session, runtime, row) -> str | None:
    """The text the send job hands the provider for `row`: its body, the invitation's code set in any slot."""
    invitation = session.get(Invitation, row.invitation_id) if row.invitation_id else None
    code_enc = invitation.code_enc if invitation is not None else None
    return code_slots.rendered(runtime.vault, row.kind, row.body, row.invitation_id, code_enc)
