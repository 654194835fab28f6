"""Campaign logic on the models: create, respondents, paper codes, launch, close, progress."""
import re
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
from rq import Queue
from sqlalchemy import event
from sqlalchemy import select

from service.dispatch import campaigns
from service.dispatch import closing
from service.dispatch import respondents
from service.progress import rates
from service.infra import db
from service.outbox.code_slots import CODE_SLOT
from service.outbox.code_slots import render
from service.dispatch.codes import new_code
from service.dispatch.invitations import InvitationTexts
from service.dispatch.invitations import fresh_codes
from service.dispatch.invitations import invitation_text
from service.dispatch.invitations import telegram_invitation_text
from service.dispatch.codes import code_hash
from service.models import Campaign
from service.models import Invitation
from service.models import OptOut
from service.models import Organisation
from service.models import OutboxMessage
from service.models import RespondentGroup
from service.models import utcnow
from service.surveys import latest
from service.surveys import survey_of
from service.surveys import survey_title
from service.dispatch.telegram_links import deep_link
from tests.service.api_data import LANGUAGES
from tests.service.api_data import PHONES
from tests.service.api_data import SURVEY
from tests.service.api_data import draft
from tests.service.api_data import add
from tests.service.api_data import make_world
from tests.outbox_rows import as_sent

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def test_create_campaign_checks_units_language_and_closing(runtime, world):
    other = make_world(runtime, name="Annenby kommune")
    with runtime.transaction() as session:
        organisation = session.get(Organisation, world.organisation_id)
        version = latest(session, SURVEY)
        with pytest.raises(campaigns.CampaignError, match="unknown unit"):
            campaigns.create_campaign(session, organisation, version, "X", [world.unit_ids[0], other.unit_ids[0]], "nb")
        with pytest.raises(campaigns.CampaignError, match="language"):
            campaigns.create_campaign(session, organisation, version, "X", world.unit_ids, "de")
        with pytest.raises(campaigns.CampaignError, match="past"):
            campaigns.create_campaign(session, organisation, version, "X", world.unit_ids, "nb", utcnow() - timedelta(hours=1))
        with pytest.raises(campaigns.CampaignError, match="name"):
            campaigns.create_campaign(session, organisation, version, " ", world.unit_ids, "nb")
        campaign = campaigns.create_campaign(session, organisation, version, "Høst", world.unit_ids, "en")
        assert campaign.status == "draft"
        assert sorted(unit.id for unit in campaign.units) == world.unit_ids


def test_add_respondents_keeps_good_rows_and_reports_the_rest(runtime, world):
    campaign_id = draft(runtime, world)
    with runtime.transaction() as session:
        group = RespondentGroup(organisation_id=world.organisation_id, name="Kveld")
        session.add(group)
        session.add(OptOut(organisation_id=world.organisation_id, address_hash=runtime.vault.address_hash("sms", PHONES[3])))
        session.flush()
        group_id = group.id
    unit = world.unit_ids[0]
    report = add(
        runtime,
        campaign_id,
        [
            {"phone": "912 34 567", "unit_id": unit},  # national format, read in NO
            {"phone": "+47 412 34 568", "unit": "sør", "language": "EN", "group_id": group_id},
            {"phone": "not a phone", "unit_id": unit},
            {"phone": "+4722123456", "unit_id": unit},  # a landline
            {"phone": "0047 91234567", "unit_id": unit},  # the first one again
            {"phone": PHONES[3], "unit_id": unit},
            {"phone": PHONES[2]},  # two units: which one?
            {"phone": PHONES[2], "unit_id": unit, "language": "de"},
            {"phone": PHONES[2], "unit_id": unit, "group_id": 999},
            "just text",
        ],
    )
    assert report.added == 2
    assert [(e["index"], e["reason"]) for e in report.errors] == [
        (2, "not a phone number"),
        (3, "not a mobile number"),
        (6, "unit is required: the campaign has several units"),
        (7, f"language is not one of the campaign's: {LANGUAGES}"),
        (8, "group is not one of the organisation's groups"),
        (9, "row must be an object"),
    ]
    assert report.duplicates == [{"index": 4, "phone": "*********67"}]
    assert report.opted_out == [{"index": 5, "phone": "*********30"}]
    with runtime.session() as session:
        rows = session.scalars(select(Invitation).order_by(Invitation.id)).all()
    assert [runtime.vault.decrypt(row.address_enc) for row in rows] == PHONES[:2]
    assert [(row.language, row.unit_id, row.group_id, row.status) for row in rows] == [
        ("nb", unit, None, "created"),
        ("en", world.unit_ids[1], group_id, "created"),
    ]
    assert rows[0].address_hash == runtime.vault.address_hash("sms", PHONES[0])
    # Uploading the same numbers again adds nothing.
    again = add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": unit}])
    assert (again.added, again.duplicates) == (0, [{"index": 0, "phone": "*********67"}])


def test_a_single_unit_campaign_needs_no_unit_column(runtime, world):
    campaign_id = draft(runtime, world, unit_ids=[world.unit_ids[1]])
    report = add(runtime, campaign_id, [{"phone": PHONES[0]}])
    assert report.added == 1 and report.clean


def test_paper_codes_are_returned_once_and_stored_hashed(runtime, world):
    campaign_id = draft(runtime, world)
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        codes = campaigns.generate_paper_codes(session, runtime, campaign, world.unit_ids[0], None, 25)
        for count in (0, 1001, "5", True):
            with pytest.raises(campaigns.CampaignError, match="count"):
                campaigns.generate_paper_codes(session, runtime, campaign, world.unit_ids[0], None, count)
        with pytest.raises(campaigns.CampaignError, match="unit"):
            campaigns.generate_paper_codes(session, runtime, campaign, 999, None, 1)
    assert len(set(codes)) == 25 and all(CODE.fullmatch(code) for code in codes)
    with runtime.session() as session:
        rows = session.scalars(select(Invitation)).all()
    assert {row.code_hash for row in rows} == {code_hash(runtime.vault, code) for code in codes}
    assert {(row.channel, row.address_enc, row.status) for row in rows} == {("paper", None, "created")}


def test_launch_refuses_empty_past_or_not_draft(runtime, world):
    empty = draft(runtime, world)
    late = draft(runtime, world, closes_in=timedelta(seconds=1))
    add(runtime, late, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}])
    with runtime.transaction() as session:
        with pytest.raises(campaigns.CampaignStateError, match="no respondents"):
            campaigns.launch(session, runtime, session.get(Campaign, empty), utcnow())
        with pytest.raises(campaigns.CampaignStateError, match="closing time"):
            campaigns.launch(session, runtime, session.get(Campaign, late), utcnow() + timedelta(minutes=1))
        campaign = session.get(Campaign, late)
        campaigns.launch(session, runtime, campaign, utcnow())
        with pytest.raises(campaigns.CampaignStateError, match="only a draft"):
            campaigns.launch(session, runtime, campaign, utcnow())


def test_launch_writes_invitations_with_fresh_codes_and_queues_ids_after_commit(runtime, world, redis):
    campaign_id = draft(runtime, world)
    add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}, {"phone": PHONES[1], "unit_id": world.unit_ids[1], "language": "en"}])
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        paper = campaigns.generate_paper_codes(session, runtime, campaign, world.unit_ids[0], None, 2)
        placeholders = set(session.scalars(select(Invitation.code_hash).where(Invitation.channel == "sms")))
        now = utcnow()
        ids = campaigns.launch(session, runtime, campaign, now)
        assert Queue("send", connection=redis).count == 0, "nothing may be queued before commit"
    assert len(ids) == 2
    with runtime.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert (campaign.status, campaign.launched_at, campaign.opens_at) == ("open", now, now)
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        invitations = {row.id: row for row in session.scalars(select(Invitation))}
    assert {row.status for row in invitations.values()} == {"invited"}
    for row in rows:
        invitation = invitations[row.invitation_id]
        assert (row.kind, row.channel, row.campaign_id, row.status) == ("invitation", "sms", campaign_id, "pending")
        assert row.address_enc == invitation.address_enc
        # The stored body holds the code's slot, never the code (A7); the send sets it in.
        assert CODE.findall(row.body) == [] and row.body.count(CODE_SLOT) == 1
        with runtime.session() as session:
            sent = as_sent(session, runtime, row)
        [code] = CODE.findall(sent)
        assert sent == row.body.replace(CODE_SLOT, code)
        # The code in the SMS is new: the placeholder drawn at upload is gone.
        assert invitation.code_hash == code_hash(runtime.vault, code) and invitation.code_hash not in placeholders
        title = "Introduction programme" if invitation.language == "en" else "Brukerundersøkelse"
        assert "STOP" in row.body and title in row.body
    # Paper codes are printed already: launch must not redraw them.
    paper_hashes = {code_hash(runtime.vault, code) for code in paper}
    assert paper_hashes == {i.code_hash for i in invitations.values() if i.channel == "paper"}
    [job] = Queue("send", connection=redis).jobs
    assert sorted(job.args[0]) == sorted(ids) and all(type(value) is int for value in job.args[0])
    assert len(job.args) == 1 and not job.kwargs


def test_the_english_invitation_is_gsm7(runtime, world):
    pytest.importorskip("gsm0338")  # importing it registers the gsm03.38 codec
    campaign_id = draft(runtime, world)
    add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": world.unit_ids[0], "language": "en"}])
    with runtime.transaction() as session:
        campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
    with runtime.session() as session:
        body = as_sent(session, runtime, session.scalar(select(OutboxMessage)))
    body.replace("Testby kommune", "").encode("gsm03.38")
    assert len(body) <= 2 * 153


def test_respondents_added_to_an_open_campaign_are_invited_at_once(runtime, world, redis):
    campaign_id = draft(runtime, world)
    add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}])
    with runtime.transaction() as session:
        campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
    add(runtime, campaign_id, [{"phone": PHONES[1], "unit_id": world.unit_ids[0]}])
    with runtime.session() as session:
        assert session.scalar(select(Invitation.status).where(Invitation.address_hash == runtime.vault.address_hash("sms", PHONES[1]))) == "invited"
        assert len(session.scalars(select(OutboxMessage.id)).all()) == 2
    assert len(Queue("send", connection=redis).jobs) == 2


def test_close_erases_addresses_and_stops_unsent_messages(runtime, world):
    campaign_id = draft(runtime, world)
    add(runtime, campaign_id, [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES[:2]])
    with runtime.transaction() as session:
        campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
        session.scalars(select(OutboxMessage)).first().status = "sent"
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        closing.close(session, campaign, utcnow())
        with pytest.raises(campaigns.CampaignStateError, match="already closed"):
            closing.close(session, campaign, utcnow())
        with pytest.raises(campaigns.CampaignStateError, match="closed"):
            respondents.add_respondents(session, runtime, campaign, [{"phone": PHONES[2]}])
    with runtime.session() as session:
        assert session.get(Campaign, campaign_id).status == "closed"
        assert {(i.address_enc, i.address_hash is not None) for i in session.scalars(select(Invitation))} == {(None, True)}
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(row.status, row.address_enc, row.body) for row in rows] == [("sent", None, None), ("failed", None, None)]
    assert rows[1].error_code == "campaign_closed"


def test_progress_counts_by_status_and_unit(runtime, world):
    campaign_id = draft(runtime, world)
    statuses = ["created", "invited", "invited", "delivered", "started", "completed", "completed", "opted_out", "failed"]
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        campaigns.generate_paper_codes(session, runtime, campaign, world.unit_ids[0], None, len(statuses))
        campaigns.generate_paper_codes(session, runtime, campaign, world.unit_ids[1], None, 2)
        rows = session.scalars(select(Invitation).where(Invitation.unit_id == world.unit_ids[0]).order_by(Invitation.id)).all()
        for row, status in zip(rows, statuses):
            row.status = status
    with runtime.session() as session:
        report = rates.progress(session, session.get(Campaign, campaign_id))
    first = {"total": 9, "invited": 8, "delivered": 4, "started": 3, "completed": 2, "opted_out": 1, "failed": 1, "response_rate": 0.25}
    assert {key: report[key] for key in first} == {**first, "total": 11}
    assert {key: report["units"][0][key] for key in ("unit_id", "name", *first)} == {"unit_id": world.unit_ids[0], "name": "Nord", **first}
    [cell] = report["units"][0]["groups"]
    assert cell["group_id"] is None and {key: cell[key] for key in first} == first
    assert report["units"][1]["total"] == 2 and report["units"][1]["response_rate"] == 0.0


def test_launch_costs_the_same_statements_for_3_as_for_30_respondents(runtime, world):
    engine = db.engine_for(runtime.config.database_url, runtime.config.db_lock_timeout)
    counts = []
    for size in (3, 30):
        campaign_id = draft(runtime, world)
        add(runtime, campaign_id, [{"phone": f"+47912{size:02d}{n:03d}", "unit_id": world.unit_ids[n % 2]} for n in range(size)])
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            with runtime.transaction() as session:
                assert len(campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())) == size
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    # Codes, invitation updates, outbox rows and their ids take a statement per 500 invitations, not one each.
    assert counts[0] == counts[1] <= 20


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_invitation_texts_stored_once_per_language_read_as_rendered_for_each_code(runtime, world, channel):
    config = replace(runtime.config, telegram_bot_username="svar_test_bot")
    campaign_id = draft(runtime, world)
    with runtime.session() as session:
        campaign = session.get(Campaign, campaign_id)
        texts = InvitationTexts(SimpleNamespace(config=config), campaign)
        # Arabic and Persian too: the bidi isolates around the slot are those around a code.
        for language in [*(language.strip() for language in LANGUAGES.split(",")), "ar", "fa"]:
            title = survey_title(survey_of(campaign.survey_version), language, "nb")
            row = SimpleNamespace(language=language, channel=channel)
            stored = texts.body(row)
            assert CODE.findall(stored) == []
            for _ in range(5):
                code = new_code()
                if channel == "telegram":
                    expected = telegram_invitation_text("Testby kommune", title, code, deep_link(config, code), language)
                else:
                    expected = invitation_text("Testby kommune", title, code, language)
                assert render(stored, code) == expected


def test_fresh_codes_are_stored_as_the_hash_a_typed_code_is_looked_up_by(runtime, world):
    with runtime.session() as session:
        pairs = fresh_codes(session, runtime.vault, 2000)
    assert len({digest for _code, digest in pairs}) == 2000
    for code, digest in pairs:
        assert digest == code_hash(runtime.vault, code) == code_hash(runtime.vault, code.lower().replace("-", " "))
