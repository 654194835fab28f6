"""Bulk rows below the ORM (COPY, executemany), and uploads and launches whose statements do not grow with their size."""
import pytest
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from service.dispatch import campaigns
from service.infra import db
from service.infra.bulk_sql import BULK_CACHE_KIB
from service.infra.bulk_sql import insert_rows
from service.infra.bulk_sql import matching
from service.infra.bulk_sql import new_ids
from service.infra.bulk_sql import roomy_cache
from service.models import Campaign
from service.models import Invitation
from service.models import OutboxMessage
from service.models import utcnow
from service.dispatch.respondents import placeholder_code_hashes
from tests.service.api_data import draft
from tests.service.api_data import add
from tests.service.api_data import make_world


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def respondents(count: int, first: int, world) -> list[dict]:
    return [{"phone": f"+4791{first + n:06d}", "unit_id": world.unit_ids[n % 2], "language": "en" if n % 3 else "nb"} for n in range(count)]


def count_statements(run) -> int:
    seen = []

    def record(*_args):
        seen.append(1)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return len(seen)


def test_rows_written_below_the_orm_read_back_as_the_orm_writes_them(runtime, world):
    campaign_id = draft(runtime, world)
    now = utcnow()
    placeholders = placeholder_code_hashes(3)
    with runtime.transaction() as session:
        connection = session.connection()
        ids = new_ids(connection, Invitation.__table__, 3)
        rows = ((ids[n], world.unit_ids[0], None, f"hash-{n}", placeholders[n]) for n in range(3))
        insert_rows(connection, Invitation.__table__, ["id", "unit_id", "group_id", "address_hash", "code_hash"], rows,
                    constants={"campaign_id": campaign_id, "channel": "sms", "language": "nb", "status": "created",
                               "reminder_count": 0, "created_at": now})
        assert matching(connection, Invitation.__table__, "address_hash", ["hash-2", "hash-9", "hash-0"], campaign_id=campaign_id) == {"hash-0", "hash-2"}
        assert matching(connection, Invitation.__table__, "address_hash", ["hash-1"], campaign_id=campaign_id + 1) == set()
        # The next ids drawn follow these: nothing else took them.
        assert new_ids(connection, Invitation.__table__, 2)[0] > ids[-1]
    with runtime.session() as session:
        written = session.scalars(select(Invitation).where(Invitation.campaign_id == campaign_id).order_by(Invitation.id)).all()
    assert [row.id for row in written] == ids
    assert [(row.address_hash, row.code_hash, row.created_at, row.status) for row in written] == [
        (f"hash-{n}", placeholders[n], now, "created") for n in range(3)
    ]


def test_a_duplicate_fails_as_a_statement_would(runtime, world):
    campaign_id = draft(runtime, world)
    rows = [(world.unit_ids[0], f"hash-{n}", "same-code-hash") for n in range(2)]
    with pytest.raises(IntegrityError):
        with runtime.transaction() as session:
            insert_rows(session.connection(), Invitation.__table__, ["unit_id", "address_hash", "code_hash"], rows,
                        constants={"campaign_id": campaign_id, "channel": "sms", "language": "nb", "status": "created",
                                   "reminder_count": 0, "created_at": utcnow()})
    with runtime.session() as session:
        assert session.scalars(select(Invitation.id).where(Invitation.campaign_id == campaign_id)).all() == []


def test_a_per_row_value_that_needs_its_bind_processor_is_refused(runtime, world):
    with runtime.transaction() as session:
        with pytest.raises(TypeError, match="created_at"):
            insert_rows(session.connection(), Invitation.__table__, ["created_at"], [(utcnow(),)])


def test_placeholders_are_unique_ascending_and_no_two_uploads_share_one():
    first, second = placeholder_code_hashes(1000), placeholder_code_hashes(1000)
    assert first == sorted(first) and len(set(first)) == 1000 and {len(value) for value in first} == {64}
    assert not set(first) & set(second)


def test_an_upload_costs_the_same_statements_for_3_as_for_300_respondents(runtime, world):
    counts = []
    for size, first in ((3, 0), (300, 1000)):
        campaign_id = draft(runtime, world)
        counts.append(count_statements(lambda: add(runtime, campaign_id, respondents(size, first, world))))
    # Campaign and rows, the two lookups, the insert (a COPY on PostgreSQL: no statement), the cache on SQLite.
    assert counts[0] == counts[1] <= 12


def test_an_upload_to_an_open_campaign_sends_at_once_with_the_same_statements_for_3_as_for_300(runtime, world):
    counts = []
    for size, first in ((3, 0), (300, 1000)):
        campaign_id = draft(runtime, world)
        add(runtime, campaign_id, respondents(1, 9000 + first, world))
        with runtime.transaction() as session:
            campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
        counts.append(count_statements(lambda: add(runtime, campaign_id, respondents(size, first, world))))
        with runtime.session() as session:
            invited = session.scalars(select(Invitation.status).where(Invitation.campaign_id == campaign_id)).all()
            outbox = session.scalars(select(OutboxMessage.invitation_id).where(OutboxMessage.campaign_id == campaign_id)).all()
        assert set(invited) == {"invited"} and len(outbox) == len(set(outbox)) == size + 1
    assert counts[0] == counts[1] <= 22


def test_the_bulk_page_cache_is_given_back(runtime):
    engine = db.engine_for(runtime.config.database_url)
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite page cache")
    with engine.begin() as connection:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        with roomy_cache(connection):
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -BULK_CACHE_KIB
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
