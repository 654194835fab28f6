"""An organisation with units, users and API tokens, for the API and campaign tests."""
from dataclasses import dataclass
from datetime import timedelta

from flows.definitions import bundled_survey
from service.accounts.tokens import create_token
from service.dispatch import respondents
from service.dispatch.campaigns import create_campaign
from service.models import Campaign
from service.models import Organisation
from service.models import Unit
from service.models import User
from service.models import UserUnit
from service.models import utcnow
from service.surveys import latest
from service.surveys import sync_bundled

SURVEY = "introduction-programme"
# The bundled survey's languages as a refusal lists them ("nb, nn, ...").
LANGUAGES = ", ".join(bundled_survey(SURVEY).languages)
PHONES = ["+4791234567", "+4741234568", "+4792345679", "+4748765430"]


@dataclass
class World:
    organisation_id: int
    unit_ids: list[int]
    user_id: int
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def make_world(runtime, name="Testby kommune", units=("Nord", "Sør"), role="admin") -> World:
    """An organisation with `units` and a user of `role` holding a fresh token."""
    with runtime.transaction() as session:
        sync_bundled(session)
        organisation = Organisation(name=name, default_language="nb", region="NO")
        session.add(organisation)
        session.flush()
        rows = [Unit(organisation_id=organisation.id, name=unit) for unit in units]
        session.add_all(rows)
        user = User(organisation_id=organisation.id, email=f"{role}@{name.split()[0].lower()}.no", password_hash="", role=role)
        session.add(user)
        session.flush()
        token = create_token(session, user, "tests")
        return World(organisation.id, [unit.id for unit in rows], user.id, token)


def add_user(runtime, world: World, role: str, unit_ids=()) -> str:
    """Another user of the world's organisation (a coordinator of `unit_ids`); returns their token."""
    with runtime.transaction() as session:
        user = User(organisation_id=world.organisation_id, email=f"{role}-{world.user_id}@x.no", password_hash="", role=role)
        session.add(user)
        session.flush()
        session.add_all(UserUnit(user_id=user.id, unit_id=unit_id) for unit_id in unit_ids)
        return create_token(session, user, "tests")


def draft(runtime, world: World, unit_ids=None, closes_in=timedelta(days=14)) -> int:
    """A draft campaign of the bundled survey; returns its id."""
    with runtime.transaction() as session:
        organisation = session.get(Organisation, world.organisation_id)
        campaign = create_campaign(
            session,
            organisation,
            latest(session, SURVEY),
            "Høst 2026",
            unit_ids or world.unit_ids,
            "nb",
            closes_at=utcnow() + closes_in if closes_in else None,
        )
        return campaign.id


def add(runtime, campaign_id: int, rows: list[dict]):
    """respondents.add_respondents in a transaction of its own."""
    with runtime.transaction() as session:
        return respondents.add_respondents(session, runtime, session.get(Campaign, campaign_id), rows)
