"""A campaign's life: created with its choices, refused at launch for clear reasons, scheduled,
opened by the sweeper, closed by the sweeper with every number and chat id gone."""
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from service.dispatch import campaigns
from service.dispatch import respondents
from service.infra import runtime as runtimes
from service.models import Base
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OptOut
from service.models import Organisation
from service.models import OutboxMessage
from service.models import RespondentGroup
from service.models import Response
from service.models import utcnow
from service.infra.runtime import Runtime
from service.surveys import latest
from tests.service.api_data import LANGUAGES
from tests.service.api_data import PHONES
from tests.service.api_data import SURVEY
from tests.service.api_data import make_world
from tests.service.conversation import say
from workers.schedule import close_due_campaigns
from workers.schedule import open_due_campaigns

CHAT_ID = "734019283"


@pytest.fixture
def world(runtime):
    return make_world(runtime)


@pytest.fixture
def group_ids(runtime, world):
    with runtime.transaction() as session:
        groups = [RespondentGroup(organisation_id=world.organisation_id, name=f"Spor {n}") for n in (1, 2, 3)]
        session.add_all(groups)
        session.flush()
        return [group.id for group in groups]


def create(runtime, world, **options):
    options.setdefault("closes_at", utcnow() + timedelta(days=14))
    with runtime.transaction() as session:
        organisation = session.get(Organisation, world.organisation_id)
        return campaigns.create_campaign(session, organisation, latest(session, SURVEY), "Høst", world.unit_ids, options.pop("default_language", "nb"), **options).id


def add(runtime, campaign_id, rows):
    with runtime.transaction() as session:
        return respondents.add_respondents(session, runtime, session.get(Campaign, campaign_id), rows)


def launch(runtime, campaign_id, now=None, **kwargs):
    with runtime.transaction() as session:
        return campaigns.launch(session, runtime, session.get(Campaign, campaign_id), now or utcnow(), **kwargs)


def status(runtime, campaign_id):
    with runtime.session() as session:
        return session.get(Campaign, campaign_id).status


def test_a_campaign_keeps_its_units_groups_channels_languages_and_policy(runtime, world, group_ids):
    campaign_id = create(runtime, world, group_ids=group_ids[:2], channels=["paper", "sms"], languages=["nb"], incomplete_policy="keep", small_group=8)
    with runtime.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert sorted(group.id for group in campaign.groups) == group_ids[:2]
        assert (campaign.channels, campaign.languages, campaign.incomplete_policy, campaign.small_group) == (["paper", "sms"], ["nb"], "keep", 8)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"channels": ["fax"]}, "channels must be a non-empty list of: sms, telegram, paper"),
        ({"channels": []}, "channels must be a non-empty list"),
        ({"languages": ["nb", "de"]}, f"language 'de' is not one of the survey's: {LANGUAGES}"),
        ({"languages": ["en"]}, "default_language must be one of the campaign's languages"),
        ({"incomplete_policy": "maybe"}, "incomplete_policy must be one of: discard, keep"),
        ({"small_group": 0}, "small_group must be a whole number from 1 to 100"),
        ({"group_ids": [999]}, "unknown group in group_ids"),
        ({"opens_at": utcnow() + timedelta(days=20)}, "closes_at must be after opens_at"),
    ],
)
def test_a_campaign_refuses_choices_it_cannot_run(runtime, world, options, message):
    with pytest.raises(campaigns.CampaignError, match=message):
        create(runtime, world, **options)


def test_rows_of_a_campaign_with_groups_must_name_one_of_them(runtime, world, group_ids):
    campaign_id = create(runtime, world, group_ids=group_ids[:2])
    report = add(runtime, campaign_id, [
        {"phone": PHONES[0], "unit_id": world.unit_ids[0], "group": "spor 2"},
        {"phone": PHONES[1], "unit_id": world.unit_ids[0]},
        {"phone": PHONES[2], "unit_id": world.unit_ids[0], "group": "Spor 3"},
    ])
    assert report.added == 1
    assert [(entry["index"], entry["reason"]) for entry in report.errors] == [
        (1, "group is required: the campaign has several groups"),
        (2, "group is not one of the campaign's groups"),
    ]


@pytest.mark.parametrize(
    "change, options, message",
    [
        ({"twilio_account_sid": None}, {"channels": ["sms"]}, "SMS is not set up: TWILIO_ACCOUNT_SID"),
        ({}, {"channels": ["telegram", "sms"]}, "Telegram is not set up: TELEGRAM_BOT_TOKEN is needed"),
        ({"twilio_from": None, "simulator": False}, {"channels": ["paper"]}, "paper codes need a channel to answer on"),
    ],
)
def test_launch_refuses_a_channel_the_deployment_has_not_set_up(config, redis, world, change, options, message):
    runtime = Runtime(dataclasses.replace(config, **change), redis=redis)
    campaign_id = create(runtime, world, **options)
    with runtime.transaction() as session:
        campaigns.generate_paper_codes(session, runtime, session.get(Campaign, campaign_id), world.unit_ids[0], None, 1) if "paper" in options["channels"] else None
    add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}]) if "sms" in options["channels"] else None
    with pytest.raises(campaigns.CampaignError, match=message):
        launch(runtime, campaign_id)
    assert status(runtime, campaign_id) == "draft"


def test_launch_refuses_no_closing_time_and_a_language_the_survey_lacks(runtime, world):
    no_end = create(runtime, world, closes_at=None)
    add(runtime, no_end, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}])
    with pytest.raises(campaigns.CampaignError, match="set a closing time first"):
        launch(runtime, no_end)
    foreign = create(runtime, world)
    add(runtime, foreign, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}])
    with runtime.transaction() as session:
        # A language that slipped in (an older version, a hand edit): caught before anything is sent.
        session.execute(update(Invitation).where(Invitation.campaign_id == foreign).values(language="de"))
    with pytest.raises(campaigns.CampaignError, match=f"the survey has no de version; it has: {LANGUAGES}"):
        launch(runtime, foreign)
    with runtime.session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_scheduled_campaign_is_opened_by_the_sweeper_when_due(runtime, world):
    now = utcnow()
    campaign_id = create(runtime, world, opens_at=now + timedelta(hours=2))
    add(runtime, campaign_id, [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES[:3]])
    assert launch(runtime, campaign_id, now) == []
    assert status(runtime, campaign_id) == "scheduled"
    # A code typed before the opening gets "not open yet", not "closed".
    with runtime.transaction() as session:
        [code] = campaigns.generate_paper_codes(session, runtime, session.get(Campaign, campaign_id), world.unit_ids[0], None, 1)
    say(runtime, "+4798000001", code, now=now)
    with runtime.session() as session:
        reply = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert "not opened yet" in reply.body or "ikke åpnet" in reply.body
    # Someone opts out while the campaign waits: they get no invitation.
    with runtime.transaction() as session:
        session.add(OptOut(organisation_id=world.organisation_id, address_hash=runtime.vault.address_hash("sms", PHONES[2])))
    assert open_due_campaigns(now + timedelta(hours=1)) == 0
    assert status(runtime, campaign_id) == "scheduled"
    assert open_due_campaigns(now + timedelta(hours=2)) == 1
    assert status(runtime, campaign_id) == "open"
    with runtime.session() as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
        statuses = sorted(session.scalars(select(Invitation.status).where(Invitation.channel == "sms")))
    assert sorted(runtime.vault.decrypt(row.address_enc) for row in sent) == sorted(PHONES[:2])
    assert statuses == ["invited", "invited", "opted_out"]
    assert open_due_campaigns(now + timedelta(hours=3)) == 0


def test_a_scheduled_launch_can_take_the_opening_time_at_launch(runtime, world):
    campaign_id = create(runtime, world)
    add(runtime, campaign_id, [{"phone": PHONES[0], "unit_id": world.unit_ids[0]}])
    launch(runtime, campaign_id, opens_at=utcnow() + timedelta(days=1))
    assert status(runtime, campaign_id) == "scheduled"


def values_in_every_table(runtime):
    """Every stored value of every table, with encrypted ones decrypted too."""
    found = []
    with runtime.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                for value in row:
                    if value is None:
                        continue
                    text = str(value)
                    found.append((table.name, text))
                    if isinstance(value, str) and value.startswith("gAAAA"):
                        found.append((table.name, str(runtime.vault.decrypt(value))))
    return found


@pytest.mark.parametrize("policy", ["keep", "discard"])
def test_closing_erases_every_number_and_chat_id_and_settles_unfinished_answers(runtime, redis, world, policy):
    now = utcnow()
    campaign_id = create(runtime, world, incomplete_policy=policy, channels=["sms", "paper"], closes_at=now + timedelta(days=1))
    add(runtime, campaign_id, [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES])
    with runtime.transaction() as session:
        [code] = campaigns.generate_paper_codes(session, runtime, session.get(Campaign, campaign_id), world.unit_ids[1], None, 1)
    launch(runtime, campaign_id, now)
    # One respondent answers two questions by SMS; another starts from a paper code on Telegram.
    say(runtime, PHONES[0], "Hei", now=now)
    say(runtime, PHONES[0], "5", now=now)
    say(runtime, PHONES[0], "4", now=now)
    say(runtime, CHAT_ID, code, channel="telegram", now=now)
    say(runtime, CHAT_ID, "6", channel="telegram", now=now)
    say(runtime, PHONES[1], "Hei", now=now)  # started, nothing answered yet
    with runtime.session() as session:
        assert len(session.scalars(select(Conversation)).all()) == 3
    assert any(PHONES[0] in text for _table, text in values_in_every_table(runtime)), "the scan must see numbers"

    assert close_due_campaigns(now + timedelta(hours=23)) == 0
    assert close_due_campaigns(now + timedelta(days=1)) == 1
    assert status(runtime, campaign_id) == "closed"
    # The release of the pool runs as a job after the commit.
    from workers.store import release_pool

    runtimes.install(runtime)
    release_pool(campaign_id)

    secrets = [*PHONES, *(phone.lstrip("+") for phone in PHONES), *(phone[3:] for phone in PHONES), CHAT_ID]
    leaks = [(table, secret) for table, text in values_in_every_table(runtime) for secret in secrets if secret in text]
    assert leaks == []
    with runtime.session() as session:
        assert session.scalars(select(Conversation)).all() == []
        hashes = set(session.scalars(select(Invitation.address_hash).where(Invitation.channel == "sms")))
        responses = session.scalars(select(Response)).all()
    # Only keyed hashes stay, enough to honour an opt-out next time.
    assert hashes == {runtime.vault.address_hash("sms", phone) for phone in PHONES}
    if policy == "keep":
        # The two with answers are kept, anonymously and marked incomplete; the one with none is not.
        assert sorted((r.complete, r.unit_id) for r in responses) == [(False, world.unit_ids[0]), (False, world.unit_ids[1])]
    else:
        assert responses == []
    # Nothing in Redis carries a number either (jobs hold ids only).
    dump = b" ".join(redis.dump(key) or b"" for key in redis.keys("*"))
    assert not any(secret.encode() in dump for secret in secrets)
