"""100,000 respondents from CSV to queued invitations: upload (API), then launch. Prints seconds.

    .venv/bin/python bench/respondents_upload.py                  # SQLite in a temp dir
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python bench/respondents_upload.py
Set BENCH_ROWS to change the size (default 100000). The PostgreSQL schema is rebuilt.
"""
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import fakeredis
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.dispatch import campaigns  # noqa: E402
from service import create_app  # noqa: E402
from service.infra import db  # noqa: E402
from service.accounts.tokens import create_token  # noqa: E402
from service.config import Config  # noqa: E402
from service.models import Base  # noqa: E402
from service.models import Campaign  # noqa: E402
from service.models import Organisation  # noqa: E402
from service.models import OutboxMessage  # noqa: E402
from service.models import Unit  # noqa: E402
from service.models import User  # noqa: E402
from service.models import utcnow  # noqa: E402
from service.surveys import latest  # noqa: E402
from service.surveys import sync_bundled  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", 100_000))



def draft(runtime) -> tuple[int, str]:
    """An organisation with two units, an admin token and a draft campaign of the bundled survey."""
    with runtime.transaction() as session:
        sync_bundled(session)
        organisation = Organisation(name="Bench kommune", region="NO")
        session.add(organisation)
        session.flush()
        session.add_all(Unit(organisation_id=organisation.id, name=name) for name in ("Nord", "Sør"))
        user = User(organisation_id=organisation.id, email="bench@x.no", password_hash="", role="admin")
        session.add(user)
        session.flush()
        token = create_token(session, user, "bench")
        units = session.scalars(select(Unit.id).where(Unit.organisation_id == organisation.id)).all()
        campaign = campaigns.create_campaign(
            session, organisation, latest(session, "introduction-programme"), "Bench", list(units), "nb",
            closes_at=utcnow() + timedelta(days=14),
        )
        return campaign.id, token


def database_url(folder: str) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        url = f"sqlite:///{folder}/bench.db"
        Base.metadata.create_all(db.engine_for(url))
        return url
    engine = db.engine_for(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    return url


def csv_body(rows: int) -> bytes:
    """A semicolon CSV as Excel writes it; one row in a hundred has a bad number."""
    lines = ["telefon;språk;enhet"]
    draw = random.Random(2026)
    numbers = draw.sample(range(10**6), rows // 2 + 1) * 2
    for index, number in enumerate(numbers[:rows]):
        # Norwegian mobiles (41x xx xxx and 9xx xx xxx), written as people write them.
        national = f"{'9' if index < rows // 2 else '41'}{'2468'[index % 4]}{number:06d}"[:8]
        phone = "12345" if index % 100 == 7 else (f"+47 {national}" if index % 3 else national)
        lines.append(f"{phone};{'en' if index % 3 else 'nb'};{'Nord' if index % 2 else 'Sør'}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main():
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(folder)
        config = Config(
            database_url=url, redis_url="redis://unused", secret_key="bench", data_key="bench",
            twilio_account_sid="AC" + "0" * 32, twilio_auth_token="x", twilio_from="+4759440000",
        )
        redis = fakeredis.FakeRedis()
        app = create_app(config, redis=redis)
        runtime = app.extensions["svar"]
        campaign_id, token = draft(runtime)
        body = csv_body(ROWS)
        client = app.test_client()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(
            f"/api/v1/campaigns/{campaign_id}/respondents",
            headers={"Authorization": f"Bearer {token}"}, data=body, content_type="text/csv",
        )
        uploaded, cpu_uploaded = time.perf_counter(), time.process_time()
        report = response.get_json()
        assert response.status_code == 207, report
        with runtime.transaction() as session:
            campaigns.launch(session, runtime, session.get(Campaign, campaign_id), utcnow())
        launched, cpu_launched = time.perf_counter(), time.process_time()
        with runtime.session() as session:
            queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{backend}: {ROWS} CSV rows ({len(body) / 1e6:.1f} MB), {report['added']} added, {len(report['errors'])} errors")
        # Wall time, and this process's CPU time (a loaded machine inflates the first; the database server's work is not in the second).
        print(f"  upload (API: parse, validate, hash, encrypt, insert): {uploaded - started:.1f} s wall, {cpu_uploaded - cpu_started:.1f} s CPU")
        print(f"  launch (codes, invitation texts, outbox rows, jobs):  {launched - uploaded:.1f} s wall, {cpu_launched - cpu_uploaded:.1f} s CPU")
        print(f"  CSV to {queued} queued invitations:                   {launched - started:.1f} s wall, {cpu_launched - cpu_started:.1f} s CPU")
        db.dispose_all()


if __name__ == "__main__":
    main()
