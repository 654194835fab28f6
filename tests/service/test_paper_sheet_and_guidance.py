"""Printable code sheets through the API, Telegram invitations by SMS, and sampling guidance."""
import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.dispatch import campaigns
from service.dispatch import respondents
from service.dispatch.codes import code_hash
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import RespondentGroup
from service.models import utcnow
from service.dispatch.qr import qr_svg
from service.progress.sampling import sampling_guidance
from tests.outbox_rows import as_sent
from tests.service.api_data import PHONES
from tests.service.api_data import draft
from tests.service.api_data import make_world

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


@pytest.fixture
def config(config):
    return dataclasses.replace(config, telegram_bot_username="svar_test_bot", telegram_bot_token="123:abc")


@pytest.fixture
def world(runtime):
    return make_world(runtime)


@pytest.fixture
def group_id(runtime, world):
    with runtime.transaction() as session:
        group = RespondentGroup(organisation_id=world.organisation_id, name="Spor 2")
        session.add(group)
        session.flush()
        return group.id


def codes_request(client, world, campaign_id, query="", **body):
    return client.post(f"/api/v1/campaigns/{campaign_id}/codes{query}", headers={**world.headers, **body.pop("headers", {})}, json=body)


def test_the_printable_sheet_has_one_card_per_code_with_a_qr_code_and_sms_instructions(client, runtime, world, group_id):
    campaign_id = draft(runtime, world)
    response = codes_request(client, world, campaign_id, "?format=html", unit_id=world.unit_ids[0], group_id=group_id, count=9, language="en")
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("text/html") and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    codes = CODE.findall(page)
    assert len(codes) == len(set(codes)) == 9
    assert page.count('class="card"') == 9 and page.count("<svg") == 9
    for code in codes:
        assert f"https://t.me/svar_test_bot?start={code.replace('-', '')}" in page
    assert '<html lang="en" dir="ltr">' in page
    assert "Or send the code by SMS to +47 59 44 00 00." in page
    assert "Nord · Spor 2" in page
    # Shown once: only the hashes are stored, bound to the unit and the group.
    with runtime.session() as session:
        rows = session.scalars(select(Invitation).where(Invitation.campaign_id == campaign_id)).all()
    assert {row.code_hash for row in rows} == {code_hash(runtime.vault, code) for code in codes}
    assert {(row.unit_id, row.group_id, row.language, row.channel) for row in rows} == {(world.unit_ids[0], group_id, "en", "paper")}


def test_a_browser_gets_the_sheet_and_an_api_client_json(client, runtime, world):
    campaign_id = draft(runtime, world)
    browser = codes_request(client, world, campaign_id, unit_id=world.unit_ids[0], count=1, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["Content-Type"].startswith("text/html")
    api = codes_request(client, world, campaign_id, unit_id=world.unit_ids[0], count=2)
    assert api.json["count"] == 2 and api.json["language"] == "nb"
    assert codes_request(client, world, campaign_id, "?format=pdf", unit_id=world.unit_ids[0], count=1).status_code == 400


def test_the_qr_code_is_a_real_qr_code():
    svg = qr_svg("https://t.me/svar_test_bot?start=ABCDEFGH")
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    # Version 3 (29 modules) for a link this long, with a border of 2 on each side.
    assert size == 29 + 4
    assert svg.count("<path") == 1 and svg.startswith("<svg")


def test_telegram_respondents_are_invited_by_sms_with_a_deep_link(runtime, world):
    campaign_id = draft(runtime, world)
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.channels = ["sms", "telegram"]
        report = respondents.add_respondents(session, runtime, campaign, [
            {"phone": PHONES[0], "unit_id": world.unit_ids[0], "channel": "telegram", "language": "en"},
            {"phone": PHONES[1], "unit_id": world.unit_ids[0]},
        ])
        assert report.added == 2
        campaigns.launch(session, runtime, campaign, utcnow())
    with runtime.session() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert [CODE.findall(row.body) for row in rows] == [[], []], "stored with the code's slots only"
        # As the provider gets them: the code in the text and in the link.
        bodies = {runtime.vault.decrypt(row.address_enc): as_sent(session, runtime, row) for row in rows}
        telegram = session.scalar(select(Invitation).where(Invitation.channel == "telegram"))
    [code] = CODE.findall(bodies[PHONES[0]])
    assert f"https://t.me/svar_test_bot?start={code.replace('-', '')}" in bodies[PHONES[0]]
    assert telegram.code_hash == code_hash(runtime.vault, code)
    assert "t.me" not in bodies[PHONES[1]]


@pytest.mark.parametrize(
    "population, completed, advice, target, missing",
    [
        (0, 0, "no_respondents", 0, 0),
        (12, 5, "ask_everyone_small", 12, 7),
        (30, 30, "ask_everyone", 30, 0),
        (59, 10, "ask_everyone", 30, 20),
        (60, 10, "sample_allowed", 30, 20),
        (400, 45, "sample_allowed", 30, 0),
    ],
)
def test_sampling_guidance_follows_the_rule_of_thumb(population, completed, advice, target, missing):
    guidance = sampling_guidance(population, completed)
    assert (guidance["advice"], guidance["target_answers"], guidance["answers_missing"]) == (advice, target, missing)
    assert guidance["ask_everyone"] == (population < 60)
    assert guidance["target_reached"] == (population > 0 and missing == 0)


def test_progress_shows_guidance_per_unit_and_group(client, runtime, world, group_id):
    campaign_id = draft(runtime, world, closes_in=timedelta(days=3))
    rows = [{"phone": f"+479{index:07d}", "unit_id": world.unit_ids[0], "group_id": group_id if index % 2 else None} for index in range(70)]
    with runtime.transaction() as session:
        respondents.add_respondents(session, runtime, session.get(Campaign, campaign_id), rows)
    report = client.get(f"/api/v1/campaigns/{campaign_id}/progress", headers=world.headers).json
    north, south = report["units"]
    assert north["guidance"] == {"advice": "sample_allowed", "ask_everyone": False, "target_answers": 30, "answers_missing": 30, "target_reached": False}
    assert [(cell["group_id"], cell["name"], cell["total"], cell["guidance"]["advice"]) for cell in north["groups"]] == [
        (group_id, "Spor 2", 35, "ask_everyone"),
        (None, None, 35, "ask_everyone"),
    ]
    assert south["guidance"]["advice"] == "no_respondents" and south["groups"] == []
