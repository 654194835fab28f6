"""GET results and exports over the API: roles, scope, language, downloads."""
import io
import json
import zipfile

from sqlalchemy import select

from service.accounts.access import assign_units
from service.accounts.tokens import create_token
from service.models import AuditEvent
from service.models import User
from tests.service.api_data import make_world
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units


def token_for(runtime, world, role, units=()) -> dict:
    with runtime.transaction() as session:
        user = User(organisation_id=world.organisation_id, email=f"{role}-{len(units)}@resultatby.no", password_hash="", role=role)
        session.add(user)
        session.flush()
        if units:
            assign_units(session, user, [world.units[name] for name in units])
        return {"Authorization": f"Bearer {create_token(session, user, 'tests')}"}


def answered_world(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 8)
    add_answers(runtime, world, "Bjerke", "Spor 1", [answer_set(overall=5)] * 8)
    return world


def test_results_for_an_administrator(client, runtime):
    world = answered_world(runtime)
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/results?lang=en", headers=token_for(runtime, world, "admin"))
    assert response.status_code == 200
    overall = next(q for q in response.json["questions"] if q["id"] == "overall")
    org = next(c for c in overall["cells"] if c["unit"] == "organisation" and c["group"] == "all")
    assert org["n"] == 16 and org["mean"] == 4.5 and overall["text"].startswith("All in all")
    assert response.json["min_cell"] == 5


def test_a_language_the_survey_lacks_is_refused(client, runtime):
    world = answered_world(runtime)
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/results?lang=xx", headers=token_for(runtime, world, "admin"))
    assert response.status_code == 400 and "xx" in response.json["error"]["message"]


def test_a_coordinator_sees_the_organisation_and_their_units_only(client, runtime):
    world = answered_world(runtime)
    headers = token_for(runtime, world, "coordinator", units=["Alna"])
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/results", headers=headers)
    assert response.status_code == 200
    units = {cell["unit"] for q in response.json["questions"] for cell in q["cells"]}
    assert units == {"organisation", f"unit:{world.units['Alna']}"}


def test_exports_are_for_administrators(client, runtime):
    world = answered_world(runtime)
    coordinator = token_for(runtime, world, "coordinator", units=["Alna"])
    for path in ("answers.csv", "flow-results.zip"):
        assert client.get(f"/api/v1/campaigns/{world.campaign_id}/exports/{path}", headers=coordinator).status_code == 403


def test_exports_download_and_are_audited(client, runtime):
    world = answered_world(runtime)
    admin = token_for(runtime, world, "admin")
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/exports/answers.csv", headers=admin)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    body = response.data.decode("utf-8-sig")
    assert body.startswith("row_id,campaign_id,unit,group") and len(body.splitlines()) == 17
    response = client.get(f"/api/v1/campaigns/{world.campaign_id}/exports/flow-results.zip?lang=en", headers=admin)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    descriptor = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("datapackage.json"))
    assert descriptor["resources"][0]["schema"]["questions"]["overall"]["label"].startswith("All in all")
    with runtime.session() as session:
        details = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "exported")).all()
    assert sorted(details) == ["answers.csv", "flow-results.zip"]


def test_another_organisations_campaign_is_not_found(client, runtime):
    world = answered_world(runtime)
    stranger = make_world(runtime, name="Annenby kommune")
    for path in ("results", "exports/answers.csv", "exports/flow-results.zip"):
        response = client.get(f"/api/v1/campaigns/{world.campaign_id}/{path}", headers=stranger.headers)
        assert response.status_code == 404, path
    assert client.get(f"/api/v1/campaigns/{world.campaign_id}/results").status_code == 401
