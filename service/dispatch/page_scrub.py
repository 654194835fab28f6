"""After a close, PostgreSQL's dispatch tables are rewritten, so deleted and overwritten rows leave its files (A1, A4).

PostgreSQL deletes nothing in place: a deleted or updated row stays in its
page as a dead tuple until VACUUM, and VACUUM only marks the space free; the
bytes stay until something new lands on them. Measured with
tests/service/test_deleted_rows_unreadable_pg.py after a campaign's close:
16 ciphertexts of addresses and answers in progress readable with no
scrub, 6 after a plain VACUUM of these tables. VACUUM FULL and CLUSTER
rewrite the table and its indexes into new files and truncate the old ones
at commit: 0 left.

CLUSTER (rather than VACUUM FULL) writes the rows in primary-key order, so
the new pages do not keep the order in which invitations were updated, that
is the order in which respondents completed (A2's storage-order attack,
turned on the dispatch side). It holds an ACCESS EXCLUSIVE lock for as long
as the copy takes, which grows with the table: measured here (a loaded test
machine) 2.6 s for 200,000 outbox rows and 3.5 s for 100,000 invitations.
Campaigns close rarely, and webhooks wait rather than fail (the provider
retries), so that is the price; a deployment far larger would partition
these tables by campaign and drop or rewrite one partition. A lock timeout keeps
it from queueing behind a long transaction (and everyone behind it); the
sweeper then tries again at its next run, as the closed campaign stays due.

On SQLite, secure_delete and the WAL checkpoint do this job
(service/dispatch_traces.checkpoint).
"""
import logging
from datetime import datetime

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from .traces import DISPATCH_KINDS
from ..models import Campaign
from ..models import Invitation
from ..models import OutboxMessage
from ..models import PooledAnswerSet

log = logging.getLogger(__name__)

# Tables whose rows held addresses, codes, answers in progress or answer traces.
REWRITTEN = ("conversations", "outbox", "reminder_sends", "invitations", "answer_pool")
# Waits for the table lock no longer than this; the next sweep retries.
LOCK_TIMEOUT_MS = 2000


def due_campaigns(session) -> list[int]:
    """Closed campaigns not yet scrubbed whose conversation rows and pool are gone: their dead tuples are final."""
    of_campaign = Invitation.campaign_id == Campaign.id
    replies_left = exists().where(
        OutboxMessage.invitation_id == Invitation.id, of_campaign, OutboxMessage.kind.not_in(DISPATCH_KINDS)
    )
    pooled = exists().where(PooledAnswerSet.campaign_id == Campaign.id)
    return list(session.scalars(
        select(Campaign.id)
        .where(Campaign.status == "closed", Campaign.pages_scrubbed_at.is_(None), ~replies_left, ~pooled)
        .order_by(Campaign.id)
    ))


_PRIMARY_KEY = text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:table AS regclass) AND contype = 'p'")


def rewrite_tables(engine) -> None:
    """CLUSTER each dispatch table on its primary key, one table per transaction; raises if a lock was not had in time."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        for table in REWRITTEN:
            with connection.begin():
                connection.execute(text(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}"))
                key = connection.execute(_PRIMARY_KEY, {"table": table}).scalar_one()
                connection.execute(text(f'CLUSTER {table} USING "{key}"'))


def mark_scrubbed(session, campaign_ids: list[int], now: datetime) -> None:
    """These campaigns' deleted rows are gone from the files."""
    session.execute(update(Campaign).where(Campaign.id.in_(campaign_ids)).values(pages_scrubbed_at=now))
