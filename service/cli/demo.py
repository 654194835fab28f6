"""The demo organisation of `make run`: units, the bundled survey, an open campaign, codes."""
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from ..dispatch.campaigns import create_campaign
from ..dispatch.campaigns import generate_paper_codes
from ..dispatch.campaigns import launch
from ..models import Campaign
from ..models import Organisation
from ..models import Unit
from ..models import User
from ..accounts.passwords import hash_password
from ..surveys import latest
from ..surveys import sync_bundled

ORGANISATION = "Demo kommune"
SERVICE_AREA = "Flyktningtjenesten"
UNITS = ("Introduksjonssenteret Nord", "Introduksjonssenteret Sør")
CAMPAIGN = "Brukerundersøkelse introduksjonsprogrammet (demo)"
SURVEY_KEY = "introduction-programme"
ADMIN_EMAIL = "admin@demo.svar.local"
# Enough invitations per unit that background questions stay on (see thresholds).
SEEDED_CODES_PER_UNIT = 10


@dataclass(frozen=True)
class Demo:
    campaign_id: int
    admin_email: str
    admin_password: str
    codes: list[str]


def seed(session, runtime, now: datetime, fresh_codes: int = 5) -> Demo:
    """Create the demo once; every call adds fresh codes and a new admin password to print."""
    sync_bundled(session)
    organisation = session.scalar(select(Organisation).where(Organisation.name == ORGANISATION))
    if organisation is None:
        organisation = _organisation(session)
    campaign = session.scalar(select(Campaign).where(Campaign.organisation_id == organisation.id, Campaign.name == CAMPAIGN))
    if campaign is None:
        campaign = _campaign(session, runtime, organisation, now)
    first_unit = min(campaign.units, key=lambda unit: unit.id)
    # Codes are stored only as hashes, so the ones to print are new each time.
    codes = generate_paper_codes(session, runtime, campaign, first_unit.id, None, fresh_codes)
    password = secrets.token_urlsafe(12)
    admin = session.scalar(select(User).where(User.email == ADMIN_EMAIL))
    if admin is None:
        admin = User(organisation_id=organisation.id, email=ADMIN_EMAIL, role="admin", password_hash="")
        session.add(admin)
    admin.password_hash = hash_password(password)
    session.flush()
    return Demo(campaign_id=campaign.id, admin_email=ADMIN_EMAIL, admin_password=password, codes=codes)


def _organisation(session) -> Organisation:
    organisation = Organisation(name=ORGANISATION, timezone="Europe/Oslo", default_language="nb", region="NO")
    session.add(organisation)
    session.flush()
    area = Unit(organisation_id=organisation.id, name=SERVICE_AREA)
    session.add(area)
    session.flush()
    session.add_all(Unit(organisation_id=organisation.id, parent_id=area.id, name=name) for name in UNITS)
    session.flush()
    return organisation


def _campaign(session, runtime, organisation, now) -> Campaign:
    units = session.scalars(select(Unit).where(Unit.organisation_id == organisation.id, Unit.name.in_(UNITS)))
    unit_ids = sorted(unit.id for unit in units)
    campaign = create_campaign(
        session,
        organisation,
        latest(session, SURVEY_KEY),
        CAMPAIGN,
        unit_ids,
        "nb",
        closes_at=now + timedelta(days=28),
        # Codes typed in the phone simulator: no SMS provider is needed for the demo.
        channels=("paper",),
    )
    for unit_id in unit_ids:
        generate_paper_codes(session, runtime, campaign, unit_id, None, SEEDED_CODES_PER_UNIT)
    launch(session, runtime, campaign, now)
    return campaign
