"""Deleted and blanked rows leave nothing readable in the SQLite files, and a dead code starts nothing (A4, A5, A7)."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from flows.codes import ALPHABET
from service.dispatch import campaigns
from service.dispatch.codes import display
from service.models import Campaign
from service.models import Conversation
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from tests.outbox_rows import as_sent
from tests.service.api_data import PHONES
from tests.service.api_data import make_world
from tests.service.conversation import say
from tests.service.test_campaign_lifecycle import add
from tests.service.test_campaign_lifecycle import create
from tests.service.test_campaign_lifecycle import launch
from workers.reminders import sweep_reminders
from workers.schedule import close_due_campaigns
from workers.schedule import purge_conversation_traces
from workers.send_rows import record_sent

CODE = re.compile(f"[{ALPHABET}]{{4}}-?[{ALPHABET}]{{4}}")
# A code as a message shows it, standing alone (not inside base64 ciphertext).
SHOWN_CODE = re.compile(f"(?<![A-Za-z0-9_=-])[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}(?![A-Za-z0-9_=-])".encode())
COMMENT = "Kvernsteinen-Oddbjørg hjalp meg"
STRANGER = "+4799887766"


class Captured:
    """Secrets seen while the campaign runs, to look for in the files afterwards."""

    def __init__(self):
        self.codes: set[str] = set()
        self.ciphertexts: set[str] = set()
        self.bodies: set[str] = set()

    def outbox(self, runtime, now):
        """Read every pending row as the send path would, then record it sent (bodies and addresses erased)."""
        with runtime.transaction() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
            for row in rows:
                if row.kind in ("invitation", "reminder") and row.body:
                    # The text the provider gets: the stored body holds only the code's slot.
                    sent = as_sent(session, runtime, row)
                    self.bodies.add(sent)
                    self.codes.update(match.replace("-", "") for match in CODE.findall(sent))
                if row.address_enc:
                    self.ciphertexts.add(row.address_enc)
            # The encrypted codes go at completion and close, and leave nothing readable either.
            self.ciphertexts.update(session.scalars(select(Invitation.code_enc).where(Invitation.code_enc.is_not(None))))
            self.ciphertexts.update(session.scalars(select(Invitation.address_enc).where(Invitation.address_enc.is_not(None))))
            invitation_of = {row.id: row.invitation_id if row.kind == "invitation" else None for row in rows}
            for outbox_id, invitation_id in invitation_of.items():
                record_sent(session.connection(), outbox_id, f"SM{outbox_id:032d}", now, invitation_id)

    def conversations(self, runtime):
        with runtime.session() as session:
            for conversation in session.scalars(select(Conversation)).all():
                self.ciphertexts.update((conversation.state_enc, conversation.address_enc))


def _database_files(runtime) -> list[Path]:
    database = Path(make_url(runtime.config.database_url).database)
    return [path for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if path.exists()]


def _run_campaign(runtime, captured: Captured, closing=True):
    """Invitations with codes, a reminder, one completion with a comment, one half-done, the rest silent; then close."""
    world = make_world(runtime)
    # Mid-morning in Oslo, so the reminder four days on falls inside the sending window whenever the test runs.
    now = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    closes_at = now + timedelta(days=14)
    campaign_id = create(runtime, world, channels=["sms", "paper"], closes_at=closes_at)
    add(runtime, campaign_id, [{"phone": phone, "unit_id": world.unit_ids[0]} for phone in PHONES])
    with runtime.transaction() as session:
        paper = campaigns.generate_paper_codes(session, runtime, session.get(Campaign, campaign_id), world.unit_ids[1], None, 2)
    captured.codes.update(code.replace("-", "") for code in paper)
    launch(runtime, campaign_id, now)
    captured.outbox(runtime, now)
    later = now + timedelta(days=4)
    assert sweep_reminders(later) > 0
    captured.outbox(runtime, later)
    # PHONES[0] completes with a comment; PHONES[1] answers two questions and stops; the others never answer.
    say(runtime, PHONES[0], "Hei", now=later)
    for _step in range(40):
        captured.conversations(runtime)
        with runtime.session() as session:
            if session.scalars(select(Conversation)).first() is None:
                break
            [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()[-1:]
        offered = [option["reply"] for option in row.options or () if option["reply"] != "-"]
        captured.outbox(runtime, later)
        say(runtime, PHONES[0], offered[0] if offered else COMMENT, now=later)
    captured.outbox(runtime, later)
    for text in ("Hei", "5", "4"):
        say(runtime, PHONES[1], text, now=later)
        captured.conversations(runtime)
    captured.outbox(runtime, later)
    # The clock's sweeper, every minute.
    purge_conversation_traces()
    if closing:
        assert close_due_campaigns(closes_at) == 1
        purge_conversation_traces()
    return closes_at


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite files; PostgreSQL has its own test")


def test_no_code_number_or_deleted_ciphertext_is_left_in_the_sqlite_files(runtime, sqlite_only):
    captured = Captured()
    _run_campaign(runtime, captured)
    assert len(captured.codes) == len(PHONES) + 2, "every issued code was seen"
    assert len(captured.ciphertexts) > 2 * len(PHONES)
    secrets = {*captured.codes, *(display(code) for code in captured.codes)}
    secrets |= {*PHONES, *(phone[3:] for phone in PHONES), *captured.ciphertexts, *captured.bodies}
    files = _database_files(runtime)
    assert files and files[0].stat().st_size > 0
    found = [(path.name, secret) for path in files for secret in secrets if secret.encode() in path.read_bytes()]
    assert found == []


def _stranger(number: int) -> str:
    return f"{STRANGER[:-3]}{number:03d}"


def _strangers_conversations(runtime):
    with runtime.session() as session:
        ours = {runtime.vault.address_hash("sms", phone) for phone in PHONES}
        return [c for c in session.scalars(select(Conversation)).all() if c.address_hash not in ours]


def test_codes_scraped_from_the_files_start_nothing_before_or_after_close(runtime, sqlite_only):
    captured = Captured()
    closes_at = _run_campaign(runtime, captured, closing=False)
    # The attacker copies the database files mid-campaign and tries every code-shaped string in them.
    scraped = {match.decode() for path in _database_files(runtime) for match in SHOWN_CODE.findall(path.read_bytes())}
    # From a fresh number each, past any per-sender guessing limit.
    for number, code in enumerate(sorted(scraped)):
        say(runtime, _stranger(number), code, now=closes_at - timedelta(days=1))
    assert _strangers_conversations(runtime) == []
    assert close_due_campaigns(closes_at) == 1
    # After close even the true codes of those who never answered start nothing.
    for number, code in enumerate(sorted(captured.codes), start=500):
        say(runtime, _stranger(number), display(code), now=closes_at + timedelta(days=1))
    assert _strangers_conversations(runtime) == []
    with runtime.session() as session:
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
    assert [row.body for row in pending if row.options] == [], "no question went out to the stranger"
