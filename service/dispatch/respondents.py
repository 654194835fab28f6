"""Respondents of a campaign from uploaded rows: checked, deduplicated, inserted in bulk.

Uploads run to 100,000 rows, so the path is built for it: each row costs a
phone parse (phone_reader: the plain forms without phonenumbers' general
parser), one keyed hash and one encryption; earlier invitations and opt-outs
are read whole when few (else looked up with one statement per 10,000
numbers); rows go in below the ORM (bulk_sql: COPY on PostgreSQL, streamed
while rows are still read and encrypted; one executemany per 10,000 on SQLite).
"""
import itertools
import logging
import secrets
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import select

from ..infra.bulk_sql import insert_rows
from ..infra.bulk_sql import matching
from ..infra.bulk_sql import paused_gc
from ..infra.bulk_sql import roomy_cache
from .campaign_errors import CampaignStateError
from .invitations import SEND_COLUMNS
from .invitations import send_invitations
from ..models import Campaign
from ..models import Invitation
from ..models import OptOut
from ..models import utcnow
from .phone_reader import PhoneReader
from .phones import PhoneError
from .phones import mask
from .respondent_rows import RowError
from .respondent_rows import RowReader

log = logging.getLogger(__name__)

# Phone numbers are hashed under the sms channel whichever channel invites
# them, so one number is one respondent per campaign and one opt-out.
ADDRESS_CHANNEL = "sms"

# Earlier invitations of the campaign and opt-outs of its organisation are read
# whole when there are at most this many of each (~7 MB of hashes): then an upload is
# one pass, each row decided as it is read. Beyond it their hashes are looked up.
READ_WHOLE = 50_000


@dataclass
class RespondentReport:
    """What became of uploaded rows; rows are 0-based indexes and phones are masked."""

    added: int = 0
    errors: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    opted_out: list[dict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.errors or self.duplicates or self.opted_out)

    def numbered(self, lines: list, key: str) -> dict:
        """The report with each row's index replaced by `key`: its line in the file, or its place in the request."""
        def entries(items):
            return [{key: lines[item["index"]], **{k: v for k, v in item.items() if k != "index"}} for item in items]

        return {"added": self.added, "errors": entries(self.errors), "duplicates": entries(self.duplicates),
                "opted_out": entries(self.opted_out)}


def placeholder_code_hashes(count: int) -> list[str]:
    """`count` unique stand-ins for code_hash until launch draws the real codes, ascending.

    A random 192-bit prefix for the upload and a counter: not the hash of
    any code, so no code typed can match one, and no lookup is needed to
    keep them unique. Ascending, so that 100,000 of them go into the
    code_hash index side by side instead of at random places (on SQLite a
    random place is a page outside its cache).
    """
    return list(itertools.islice(placeholders(), count))


def placeholders():
    """Unique placeholder code hashes without end, ascending (see placeholder_code_hashes)."""
    prefix = secrets.token_hex(24)
    return (f"{prefix}{number:016x}" for number in itertools.count())


def add_respondents(session, runtime, campaign: Campaign, rows: list, now: datetime | None = None) -> RespondentReport:
    """Invite respondents: {phone, language?, unit_id? or unit, group_id? or group, channel?} per row.

    Good rows are kept even when others are bad. In an open campaign the new
    invitations are sent at once; in a draft or scheduled one they wait for
    the opening.
    """
    if campaign.status == "closed":
        raise CampaignStateError("the campaign is closed")
    with paused_gc(), roomy_cache(session.connection()):
        return _add(session, runtime, campaign, rows, now or utcnow())


def _add(session, runtime, campaign: Campaign, rows: list, now: datetime) -> RespondentReport:
    report = RespondentReport()
    # Read before any row: rows may be read while the COPY runs, and no statement can run then.
    read = RowReader(session, campaign)
    read_phone = PhoneReader(campaign.organisation.region)
    accepted = _accepted(runtime.vault, rows, read, read_phone, report)
    existing = _existing(session, campaign)
    if existing is None:
        # Too many to read whole: first all rows, then a lookup of their hashes.
        accepted = list(accepted)
        existing = _known_and_opted_out(session, campaign, [digest for _index, digest, _e164, _placement in accepted])
    # With `existing` known each row is decided as it is read, and on PostgreSQL the COPY
    # takes it at once: the server inserts while later rows are still parsed and encrypted.
    report.added = insert_invitations(session, runtime.vault, campaign, _fresh(accepted, *existing, report), now)
    if campaign.status == "open" and report.added:
        # In an open campaign every earlier invitation was sent in its own
        # transaction, so the ones still "created" are exactly these.
        invitations = session.connection().execute(
            select(*SEND_COLUMNS).where(Invitation.campaign_id == campaign.id, Invitation.status == "created").order_by(Invitation.id)
        ).all()
        send_invitations(session, runtime, campaign, invitations, now)
    for entries in (report.duplicates, report.opted_out):
        entries.sort(key=lambda entry: entry["index"])
    log.info(
        "campaign %s: %d respondents added, %d rejected, %d duplicates, %d opted out",
        campaign.id, report.added, len(report.errors), len(report.duplicates), len(report.opted_out),
    )
    return report


def _accepted(vault, rows, read, read_phone, report: RespondentReport):
    """(index, address hash, E.164 number, placement) of each good row whose number came before in none; the others reported."""
    seen = set()
    for index, row in enumerate(rows):
        phone = row.get("phone") if isinstance(row, dict) else None
        try:
            if not isinstance(row, dict):
                raise RowError("row must be an object")
            e164 = read_phone(phone)
            placement = read(row)
        except (PhoneError, RowError) as error:
            report.errors.append({"index": index, "reason": str(error), "phone": mask(phone)})
            continue
        digest = vault.address_hash(ADDRESS_CHANNEL, e164)
        if digest in seen:
            report.duplicates.append({"index": index, "phone": mask(e164)})
            continue
        seen.add(digest)
        yield index, digest, e164, placement


def _fresh(accepted, known: set, opted: set, report: RespondentReport):
    """(address hash, E.164 number, placement) of the accepted rows neither invited before nor opted out; the others reported."""
    for index, digest, e164, placement in accepted:
        if digest in known:
            report.duplicates.append({"index": index, "phone": mask(e164)})
        elif digest in opted:
            report.opted_out.append({"index": index, "phone": mask(e164)})
        else:
            yield digest, e164, placement


def insert_invitations(session, vault, campaign: Campaign, added, now: datetime) -> int:
    """Insert invitations for (address hash, E.164 number, placement) in bulk, encrypting each number on the way in; how many."""
    added = iter(added)
    first = next(added, None)
    if first is None:
        return 0
    inserted = 0

    # A generator: on PostgreSQL the COPY sends rows while later ones are
    # still being read and encrypted, and the server's inserting runs on the other core.
    def rows():
        nonlocal inserted
        for (digest, e164, placement), placeholder in zip(itertools.chain([first], added), placeholders()):
            inserted += 1
            # The real code is drawn when the invitation is sent (see campaigns).
            yield (placement.unit_id, placement.group_id, placement.channel, placement.language,
                   placeholder, vault.encrypt(e164), digest)

    insert_rows(
        session.connection(), Invitation.__table__,
        ["unit_id", "group_id", "channel", "language", "code_hash", "address_enc", "address_hash"], rows(),
        constants={"campaign_id": campaign.id, "status": "created", "reminder_count": 0, "created_at": now},
    )
    return inserted


def _existing(session, campaign: Campaign) -> tuple[set, set] | None:
    """The address hashes the campaign invited and those opted out of its organisation, read whole; None if either has more than READ_WHOLE."""
    connection = session.connection()
    found = []
    for column, where in (
        (Invitation.address_hash, (Invitation.campaign_id == campaign.id, Invitation.address_hash.is_not(None))),
        (OptOut.address_hash, (OptOut.organisation_id == campaign.organisation_id,)),
    ):
        hashes = connection.execute(select(column).where(*where).limit(READ_WHOLE + 1)).scalars().all()
        if len(hashes) > READ_WHOLE:
            return None
        found.append(set(hashes))
    return found[0], found[1]


def _known_and_opted_out(session, campaign: Campaign, digests: list[str]) -> tuple[set, set]:
    """Which address hashes the campaign invited already, and which opted out of the organisation."""
    connection = session.connection()
    known = matching(connection, Invitation.__table__, "address_hash", digests, campaign_id=campaign.id)
    opted = matching(connection, OptOut.__table__, "address_hash", digests, organisation_id=campaign.organisation_id)
    return known, opted
