"""The attack on codes at rest (A7): a launched campaign's database holds no code in clear, yet each message carries the right one.

The attacker copies the database files (or reads every table) while
invitations and reminders wait to be sent, and texts whatever codes they
find. The respondent gets the code in the SMS and starts with it; the
encrypted copy is gone once it can no longer be used.
"""
import dataclasses
import re

import pytest
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import select

from flows.bidi import LRI
from flows.bidi import PDI
from service.dispatch import campaigns
from service.dispatch.closing import close
from service.outbox.code_slots import CODE_SLOT
from service.dispatch.codes import code_hash
from service.dispatch.invitations import invitation_text
from service.surveys import survey_title
from service.models import Base
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.infra import runtime as runtimes
from service.infra.runtime import Runtime
from service.surveys import survey_of
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.test_deleted_rows_unreadable import SHOWN_CODE
from tests.service.test_deleted_rows_unreadable import _database_files
from tests.workers.reminder_world import DAY
from tests.workers.reminder_world import LAUNCH
from tests.workers.reminder_world import drain
from tests.workers.reminder_world import launched
from tests.workers.reminder_world import phone
from tests.workers.reminder_world import rows
from workers.reminders import sweep_reminders

CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")
OTHER_PHONE = "+4799000111"


@pytest.fixture
def code_runtime(twilio_config, redis):
    """A worker's runtime (Twilio is the double) whose deployment has a Telegram bot for deep links."""
    runtime = Runtime(dataclasses.replace(twilio_config, telegram_bot_username="svar_test_bot"), redis=redis)
    runtimes.install(runtime)
    yield runtime
    runtimes.install(None)


def _kept_codes(runtime) -> dict[int, str]:
    """Each invitation's code, decrypted as only the send job does: what the attacker is after."""
    with runtime.session() as session:
        sealed = session.execute(select(Invitation.id, Invitation.code_enc).where(Invitation.code_enc.is_not(None))).all()
    return {invitation_id: runtime.vault.decrypt_code(invitation_id, token) for invitation_id, token in sealed}


def _text_columns_holding(runtime, needles: set[str]) -> list[tuple[str, str]]:
    """(table.column, needle) for every text value in every table that contains a needle: the attacker with SQL access."""
    found = []
    with runtime.session() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, (String, Text)):
                    continue
                for value in session.scalars(select(column).where(column.is_not(None))):
                    found.extend((f"{table.name}.{column.name}", needle) for needle in needles if needle in str(value))
    return found


def _sent_to(twilio_api, number: str) -> list[str]:
    return [message["body"] for message in twilio_api.messages if message["to"] == number]


def test_pending_invitations_leave_no_code_in_the_sqlite_files_or_any_table(code_runtime, twilio_api, database_url):
    _campaign_id, ids = launched(code_runtime, count=6)
    codes = _kept_codes(code_runtime)
    assert sorted(codes) == sorted(ids), "every invitation by phone keeps its code, encrypted"
    needles = {*codes.values(), *(code.replace("-", "") for code in codes.values())}
    # Nothing has been sent: every invitation waits in the outbox, where a plain code used to sit.
    assert {row.status for row in rows(code_runtime, "invitation")} == {"pending"}
    assert all(row.body.count(CODE_SLOT) == 1 for row in rows(code_runtime, "invitation"))
    assert _text_columns_holding(code_runtime, needles) == []
    if database_url.startswith("sqlite"):
        files = _database_files(code_runtime)
        assert any(path.name.endswith("-wal") for path in files), "the WAL is searched too"
        contents = {path.name: path.read_bytes() for path in files}
        assert [(name, code) for name, data in contents.items() for code in needles if code.encode() in data] == []
        # Nor anything shaped like a code for the attacker to try.
        assert [match for data in contents.values() for match in SHOWN_CODE.findall(data)] == []


def test_the_provider_gets_each_respondent_the_right_code_and_it_starts_their_survey(code_runtime, twilio_api):
    _campaign_id, ids = launched(code_runtime, count=3)
    codes = _kept_codes(code_runtime)
    assert drain(code_runtime, LAUNCH) == {"sent": 3}
    with code_runtime.session() as session:
        invitations = {row.id: row for row in session.scalars(select(Invitation))}
    for number, invitation_id in enumerate(ids):
        [body] = _sent_to(twilio_api, phone(number))
        [code] = CODE.findall(body)
        assert code == codes[invitation_id] and CODE_SLOT not in body
        assert code_hash(code_runtime.vault, code) == invitations[invitation_id].code_hash
    # Sent and erased, as before; the encrypted code stays for the reminders.
    assert [(row.status, row.body) for row in rows(code_runtime, "invitation")] == [("sent", None)] * 3
    assert _kept_codes(code_runtime) == codes
    # The respondent answers from another phone with the code of the SMS: their own survey starts.
    [first_sms] = _sent_to(twilio_api, phone(0))
    say(code_runtime, OTHER_PHONE, CODE.findall(first_sms)[0].lower(), now=LAUNCH)
    with code_runtime.session() as session:
        [conversation] = session.scalars(select(Conversation)).all()
        assert conversation.invitation_id == ids[0]
        assert session.get(Invitation, ids[0]).status == "started"


def test_arabic_and_telegram_invitations_carry_the_code_as_they_always_read(code_runtime, twilio_api):
    with code_runtime.transaction() as session:
        campaign = open_campaign(session, status="draft")
        campaign.closes_at = LAUNCH + 28 * DAY
        arabic, _ = invite(session, code_runtime, campaign, phone=phone(1), language="ar", status="created")
        telegram, _ = invite(session, code_runtime, campaign, phone=phone(2), language="en", channel="telegram", status="created")
        arabic_id, telegram_id = arabic.id, telegram.id
        campaigns.launch(session, code_runtime, campaign, LAUNCH)
        organisation = campaign.organisation.name
        title = survey_title(survey_of(campaign.survey_version), "ar", "nb")
    codes = _kept_codes(code_runtime)
    drain(code_runtime, LAUNCH)
    [arabic_sms] = _sent_to(twilio_api, phone(1))
    # Exactly the text written with the code: the bidi isolates Svar puts around a code stand around the real one.
    assert arabic_sms == invitation_text(organisation, title, codes[arabic_id], "ar")
    assert f"{LRI}{codes[arabic_id]}{PDI}" in arabic_sms
    [telegram_sms] = _sent_to(twilio_api, phone(2))
    compact = codes[telegram_id].replace("-", "")
    assert f"https://t.me/svar_test_bot?start={compact}" in telegram_sms and codes[telegram_id] in telegram_sms


def test_a_reminder_repeats_the_code_and_the_code_starts_the_survey(code_runtime, twilio_api):
    _campaign_id, [first, *_] = launched(code_runtime, count=2)
    codes = _kept_codes(code_runtime)
    drain(code_runtime, LAUNCH)
    assert sweep_reminders(LAUNCH + 3 * DAY) == 2
    reminders = rows(code_runtime)
    assert all(CODE.findall(row.body) == [] and row.body.count(CODE_SLOT) == 1 for row in reminders)
    assert _text_columns_holding(code_runtime, set(codes.values())) == []
    assert drain(code_runtime, LAUNCH + 3 * DAY) == {"sent": 2}
    _invitation_sms, reminder_sms = _sent_to(twilio_api, phone(0))
    assert reminder_sms.startswith("Påminnelse") and CODE.findall(reminder_sms) == [codes[first]]
    say(code_runtime, OTHER_PHONE, codes[first], now=LAUNCH + 3 * DAY)
    with code_runtime.session() as session:
        assert session.get(Invitation, first).status == "started"


def test_the_encrypted_code_goes_at_completion_opt_out_and_close(code_runtime, twilio_api):
    campaign_id, [done, stopped, stopped_midway, silent] = launched(code_runtime, count=4)
    drain(code_runtime, LAUNCH)
    say(code_runtime, phone(0), "Hei", now=LAUNCH)
    answer_all(code_runtime, phone(0))
    say(code_runtime, phone(1), "STOP", now=LAUNCH)
    say(code_runtime, phone(2), "Hei", now=LAUNCH)
    say(code_runtime, phone(2), "STOP", now=LAUNCH)
    with code_runtime.session() as session:
        statuses = {row.id: (row.status, row.code_enc is not None) for row in session.scalars(select(Invitation))}
    assert statuses == {done: ("completed", False), stopped: ("opted_out", False), stopped_midway: ("opted_out", False),
                        silent: ("invited", True)}
    with code_runtime.transaction() as session:
        close(session, session.get(Campaign, campaign_id), LAUNCH + DAY, code_runtime)
    with code_runtime.session() as session:
        assert session.scalars(select(Invitation.id).where(Invitation.code_enc.is_not(None))).all() == []


def test_a_reminder_whose_code_is_gone_fails_and_nothing_goes_out(code_runtime, twilio_api):
    _campaign_id, [only] = launched(code_runtime, count=1)
    drain(code_runtime, LAUNCH)
    assert sweep_reminders(LAUNCH + 3 * DAY) == 1
    with code_runtime.transaction() as session:
        # However it went (a lost key, a row edited by hand), a slot without its code is never sent.
        session.get(Invitation, only).code_enc = None
    before = len(twilio_api.messages)
    assert drain(code_runtime, LAUNCH + 3 * DAY) == {"failed": 1}
    [reminder] = rows(code_runtime)
    assert (reminder.status, reminder.error_code, reminder.body) == ("failed", "code", None)
    assert len(twilio_api.messages) == before
