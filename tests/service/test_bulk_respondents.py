"""Large uploads: bulk inserts, one opt-out and one duplicate lookup per chunk, every bad line reported."""
import os
import time

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.engine import Engine

from service.models import Invitation
from service.models import OptOut
from tests.service.api_data import draft
from tests.service.api_data import make_world


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def spreadsheet(rows: int) -> tuple[bytes, list[int], dict[int, str]]:
    """A semicolon CSV of Norwegian mobiles, every 50th line a landline: (body, bad lines, {line: number})."""
    lines, bad, numbers = ["telefon;språk;enhet"], [], {}
    for index in range(rows):
        line = index + 2
        if index % 50 == 13:
            phone = "22 12 34 56"
            bad.append(line)
        else:
            phone = f"9{index:07d}"
            numbers[line] = f"+47{phone}"
        lines.append(f"{phone};{'en' if index % 2 else 'nb'};{'Nord' if index % 3 else 'Sør'}")
    return ("\r\n".join(lines) + "\r\n").encode(), bad, numbers


def upload(client, world, campaign_id, body):
    return client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, data=body, content_type="text/csv")


def statements():
    """The SQL statements run on any engine (one per URL and lock timeout) until the returned stop() is called."""
    seen = []

    def record(_conn, _cursor, statement, _parameters, _context, executemany):
        seen.append((statement, executemany))

    event.listen(Engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(Engine, "before_cursor_execute", record)


def test_thousands_of_rows_go_in_with_a_handful_of_statements(client, runtime, world):
    campaign_id = draft(runtime, world)
    body, bad, numbers = spreadsheet(3_000)
    with runtime.transaction() as session:
        session.add(OptOut(organisation_id=world.organisation_id, address_hash=runtime.vault.address_hash("sms", numbers[777])))
    seen, stop = statements()
    try:
        response = upload(client, world, campaign_id, body)
    finally:
        stop()
    report = response.json
    assert response.status_code == 207
    assert report["added"] == len(numbers) - 1
    assert [entry["row"] for entry in report["errors"]] == bad
    assert [entry["row"] for entry in report["opted_out"]] == [777]
    inserts = [sql for sql, _many in seen if sql.startswith("INSERT INTO invitations")]
    opt_out_lookups = [sql for sql, _many in seen if "FROM opt_outs" in sql]
    # One executemany per 10,000 rows on SQLite; a COPY (no statement) on PostgreSQL.
    assert len(inserts) == (0 if runtime.config.database_url.startswith("postgres") else 1)
    # One lookup per 10,000 numbers, not one per chunk of 500.
    assert len(opt_out_lookups) == 1
    assert len(seen) <= 15
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Invitation)) == len(numbers) - 1


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SVAR_SLOW_TESTS"), reason="set SVAR_SLOW_TESTS=1 for the 100,000-row upload")
def test_one_hundred_thousand_rows_in_one_upload(client, runtime, world, capsys):
    campaign_id = draft(runtime, world)
    body, bad, numbers = spreadsheet(100_000)
    started = time.perf_counter()
    response = upload(client, world, campaign_id, body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 207
    assert response.json["added"] == len(numbers) and [e["row"] for e in response.json["errors"]] == bad
    with capsys.disabled():
        print(f"\n100,000-row upload: {elapsed:.1f} s")


@pytest.mark.parametrize("read_whole", [50_000, 1], ids=["read-whole", "looked-up"])
def test_earlier_invitations_and_opt_outs_are_found_whether_read_whole_or_looked_up(client, runtime, world, monkeypatch, read_whole):
    from service.dispatch import respondents

    # With a limit of 1 the campaign's two invitations are too many to read whole: their hashes are looked up.
    monkeypatch.setattr(respondents, "READ_WHOLE", read_whole)
    campaign_id = draft(runtime, world)
    body, bad, numbers = spreadsheet(60)
    lines = sorted(numbers)
    first = ("telefon;språk;enhet\r\n" + "".join(f"{numbers[line][3:]};nb;Nord\r\n" for line in lines[:2])).encode()
    assert upload(client, world, campaign_id, first).json["added"] == 2
    with runtime.transaction() as session:
        session.add(OptOut(organisation_id=world.organisation_id, address_hash=runtime.vault.address_hash("sms", numbers[lines[5]])))
    seen, stop = statements()
    try:
        report = upload(client, world, campaign_id, body + f"{numbers[lines[9]][3:]};nb;Nord\r\n".encode()).json
    finally:
        stop()
    # Lines are 1-based with the header: the appended line repeats one of this upload.
    assert [entry["row"] for entry in report["duplicates"]] == [*lines[:2], len(numbers) + len(bad) + 2]
    assert [entry["row"] for entry in report["opted_out"]] == [lines[5]]
    assert [entry["row"] for entry in report["errors"]] == bad
    assert report["added"] == len(numbers) - 3
    looked_up = [sql for sql, _many in seen if "FROM invitations WHERE address_hash" in sql]
    assert bool(looked_up) == (read_whole == 1)
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Invitation)) == len(numbers) - 1
