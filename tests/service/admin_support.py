"""Helpers for admin view tests: an organisation with users, CSRF tokens from pages, logging in."""
import re
from dataclasses import dataclass
from datetime import timedelta

from service.dispatch.campaigns import create_campaign
from service.models import Organisation
from service.models import Unit
from service.models import User
from service.models import UserUnit
from service.models import utcnow
from service.accounts.passwords import hash_password
from service.surveys import latest
from service.surveys import sync_bundled

PASSWORD = "correct horse battery staple"
SURVEY = "introduction-programme"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Org:
    organisation_id: int
    unit_ids: list[int]
    admin: str
    coordinator: str


def make_org(runtime, name="Testby kommune", units=("Nord", "Sør")) -> Org:
    """An organisation with units, an administrator and a coordinator of the first unit."""
    slug = name.split()[0].lower()
    with runtime.transaction() as session:
        sync_bundled(session)
        organisation = Organisation(name=name, default_language="nb", region="NO")
        session.add(organisation)
        session.flush()
        rows = [Unit(organisation_id=organisation.id, name=unit) for unit in units]
        session.add_all(rows)
        admin = User(organisation_id=organisation.id, email=f"admin@{slug}.no", role="admin", password_hash=hash_password(PASSWORD))
        coordinator = User(
            organisation_id=organisation.id, email=f"coord@{slug}.no", role="coordinator", password_hash=hash_password(PASSWORD)
        )
        session.add_all([admin, coordinator])
        session.flush()
        session.add(UserUnit(user_id=coordinator.id, unit_id=rows[0].id))
        return Org(organisation.id, [unit.id for unit in rows], admin.email, coordinator.email)


def make_campaign(runtime, org: Org, unit_ids=None, name="Høst 2026") -> int:
    with runtime.transaction() as session:
        organisation = session.get(Organisation, org.organisation_id)
        campaign = create_campaign(
            session, organisation, latest(session, SURVEY), name, unit_ids or org.unit_ids, "nb",
            closes_at=utcnow() + timedelta(days=14), channels=["sms", "paper"],
        )
        return campaign.id


def csrf(client, path="/admin/login") -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email, password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": csrf(client)})


def post(client, path, data=None, page=None, **kwargs):
    """POST a form with a CSRF token taken from `page` (default: the same path)."""
    token = csrf(client, page or path)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)
