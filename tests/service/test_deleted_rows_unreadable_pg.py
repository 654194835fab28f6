"""Deleted and overwritten rows leave nothing readable in PostgreSQL's files for the database (A4, A5).

PostgreSQL keeps dead tuples in its pages until a rewrite, and copies of
values in pg_statistic. This test runs a campaign to close, forces the
buffers to disk (CHECKPOINT) and greps every file of the database's tables,
indexes and TOAST tables, and pg_statistic, for the codes, phone numbers and
ciphertexts the campaign handled. pg_wal is out of scope: its segments hold
every change until they are recycled (README, Security).
"""
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sqlalchemy import select

from service.dispatch.codes import display
from service.models import Campaign
from service.infra.db import engine_for
from tests.service import test_deleted_rows_unreadable as unreadable
from tests.service.api_data import PHONES
from tests.service.test_deleted_rows_unreadable import Captured
from tests.service.test_deleted_rows_unreadable import _run_campaign
from workers.schedule import purge_conversation_traces
from workers.schedule import release_due_pools

LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}
# Our tables, their indexes and TOAST, and the statistics catalog (ANALYZE copies column values there).
RELATIONS = """
    SELECT pg_relation_filepath(c.oid) FROM pg_class c
    WHERE c.relkind IN ('r', 'i', 't', 'm')
      AND (c.relnamespace = 'public'::regnamespace
           OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
           OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN
                        (SELECT reltoastrelid FROM pg_class WHERE relnamespace = 'public'::regnamespace))
           OR c.oid = 'pg_statistic'::regclass OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'pg_statistic'::regclass))
"""


def _relation_files(runtime) -> list[Path]:
    """Every segment and fork of the database's relations, after a checkpoint wrote the buffers; skip if unreadable here."""
    engine = engine_for(runtime.config.database_url)
    if make_url(runtime.config.database_url).host not in LOCAL_HOSTS:
        pytest.skip("the PostgreSQL server is not on this machine")
    with engine.connect() as connection:
        try:
            data_directory = Path(connection.execute(text("SHOW data_directory")).scalar_one())
            connection.execute(text("CHECKPOINT"))
        except Exception as exc:  # not a superuser (nor pg_checkpoint and pg_read_all_settings)
            pytest.skip(f"cannot locate or flush the data directory: {type(exc).__name__}")
        relative = [row[0] for row in connection.execute(text(RELATIONS)) if row[0]]
    if not os.access(data_directory, os.R_OK | os.X_OK):
        pytest.skip(f"the data directory {data_directory} is not readable by this user")
    files = []
    for name in relative:
        base = data_directory / name
        files += [path for path in base.parent.glob(base.name + "*") if path.name == base.name or path.name[len(base.name)] in "._"]
    return files


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("reads PostgreSQL's files; set TEST_DATABASE_URL to a local PostgreSQL")


def _analyze_first(purge):
    """The sweeper, the first time after autovacuum's ANALYZE happened to sample the tables while the campaign ran."""

    def analyze_and_purge():
        if len(runtime_url) > 1:
            return purge()
        runtime_url.append("analyzed")
        with engine_for(runtime_url[0]).connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        return purge()

    runtime_url = []
    return analyze_and_purge, runtime_url


def test_no_code_number_or_deleted_ciphertext_is_left_in_the_postgresql_files(runtime, postgres_only, monkeypatch):
    captured = Captured()
    sweeper, url = _analyze_first(unreadable.purge_conversation_traces)
    url.append(runtime.config.database_url)
    monkeypatch.setattr(unreadable, "purge_conversation_traces", sweeper)
    _run_campaign(runtime, captured)
    # The clock's next minute: the pool goes to the answer side, then the sweeper rewrites the dispatch tables.
    assert release_due_pools() == 1
    purge_conversation_traces()
    with runtime.session() as session:
        assert session.scalar(select(Campaign.pages_scrubbed_at)) is not None
    assert len(captured.codes) == len(PHONES) + 2, "every issued code was seen"
    secrets = {*captured.codes, *(display(code) for code in captured.codes)}
    secrets |= {*PHONES, *(phone[3:] for phone in PHONES), *captured.ciphertexts, *captured.bodies}
    files = _relation_files(runtime)
    assert any(path.stat().st_size > 0 for path in files)
    found = sorted({(path.name, secret[:24]) for path in files for secret in secrets if secret.encode() in path.read_bytes()})
    assert found == [], f"{len(found)} secrets readable: {found}"
