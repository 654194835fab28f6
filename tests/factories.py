"""Rows for tests, built straight from the models: an open campaign and its invitations."""
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from service.dispatch.codes import code_hash
from service.dispatch.codes import new_code
from service.models import Campaign
from service.models import Invitation
from service.models import Organisation
from service.models import Unit
from service.surveys import latest
from service.surveys import sync_bundled

NOW = datetime(2026, 10, 5, 10, 0, tzinfo=timezone.utc)
SURVEY = "introduction-programme"


def open_campaign(session, name="Test campaign", status="open") -> Campaign:
    sync_bundled(session)
    organisation = Organisation(name=f"{name} kommune", timezone="Europe/Oslo", default_language="nb", region="NO")
    session.add(organisation)
    session.flush()
    unit = Unit(organisation_id=organisation.id, name="Introduksjonssenteret")
    session.add(unit)
    session.flush()
    campaign = Campaign(
        organisation_id=organisation.id,
        survey_version_id=latest(session, SURVEY).id,
        name=name,
        status=status,
        default_language="nb",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=28),
        units=[unit],
    )
    session.add(campaign)
    session.flush()
    return campaign


def invite(session, runtime, campaign, phone=None, language="nb", channel="sms", status="invited"):
    """An invitation; returns it with its plain code (known only to the test)."""
    code = new_code()
    invitation = Invitation(
        campaign_id=campaign.id,
        unit_id=campaign.units[0].id,
        channel=channel if phone else "paper",
        language=language,
        code_hash=code_hash(runtime.vault, code),
        address_enc=runtime.vault.encrypt(phone) if phone else None,
        address_hash=runtime.vault.address_hash(channel, phone) if phone else None,
        status=status,
    )
    session.add(invitation)
    session.flush()
    return invitation, code


def invite_many(session, runtime, campaign, count, **kwargs):
    return [invite(session, runtime, campaign, **kwargs) for _ in range(count)]
