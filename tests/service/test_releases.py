"""Attacks on the release model (A2, A3): differencing results, storage order, Redis down at close, racing releases."""
import threading
from datetime import timedelta

import pytest
import redis as redis_client
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.infra import runtime as runtimes
from service.dispatch.closing import close
from service.models import Answer
from service.models import Campaign
from service.models import Invitation
from service.models import PooledAnswerSet
from service.models import Release
from service.models import ReleaseRequest
from service.models import Response
from service.models import ResponseCount
from service.answer_side.results import campaign_results
from service.infra.runtime import Runtime
from tests.factories import NOW
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.release_support import interim_release

K = 5


def run_jobs(runtime):
    """What a worker does: run every job queued so far (the fast paths), as often as they queue more."""
    queue = runtime.queue("default")
    while jobs := queue.get_jobs():
        for job in jobs:
            queue.remove(job)
            job.perform()


def complete(runtime, campaign_id, count, start=0, at=NOW):
    """`count` respondents answer in turn, a minute apart, each with a comment naming them; workers keep up."""
    phones = []
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        for n in range(start, start + count):
            phone = f"+4794{n:06d}"
            invite(session, runtime, campaign, phone=phone)
            phones.append(phone)
    for offset, phone in enumerate(phones):
        moment = at + timedelta(minutes=start + offset)
        say(runtime, phone, "Hei", now=moment)
        answer_all(runtime, phone, text_answer=f"respondent {phone}")
        run_jobs(runtime)
    return phones


def results(runtime, campaign_id):
    with runtime.session() as session:
        return campaign_results(session, session.get(Campaign, campaign_id), "nb", min_cell=K, min_comments=10)


def responses(runtime, campaign_id):
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(Response).where(Response.campaign_id == campaign_id))


@pytest.fixture
def campaign_id(runtime):
    with runtime.transaction() as session:
        return open_campaign(session).id


def test_one_more_completion_changes_no_result_until_a_release(runtime, campaign_id):
    complete(runtime, campaign_id, 6)
    assert interim_release(campaign_id) == 6
    before = results(runtime, campaign_id)
    # The differencing attack of issue 15: one more respondent, results read again.
    complete(runtime, campaign_id, 1, start=6)
    assert results(runtime, campaign_id) == before
    # An interim release asked for now waits: the unit would gain 1 < k.
    assert interim_release(campaign_id) == 0
    assert results(runtime, campaign_id) == before and responses(runtime, campaign_id) == 6
    complete(runtime, campaign_id, K - 2, start=7)
    run_jobs(runtime)
    assert results(runtime, campaign_id) == before
    # The k-th answer since the last release: the sweeper (or the next request) lets it go.
    complete(runtime, campaign_id, 1, start=6 + K - 1)
    assert interim_release(campaign_id) == K
    after = results(runtime, campaign_id)
    assert after != before
    with runtime.session() as session:
        sets = session.scalars(select(Release.sets).where(Release.campaign_id == campaign_id).order_by(Release.number)).all()
    assert sets == [6, K] and min(sets) >= K


def test_a_group_gaining_fewer_than_k_blocks_the_interim_release(runtime, campaign_id):
    from service.answer_side.releases import waiting

    complete(runtime, campaign_id, 7)
    with runtime.transaction() as session:
        unit = session.scalar(select(Invitation.unit_id).where(Invitation.campaign_id == campaign_id))
        # A second unit of the campaign has three sets waiting.
        for _ in range(3):
            session.add(PooledAnswerSet(campaign_id=campaign_id, unit_id=unit + 1000, group_id=None, language="nb",
                                        answers_enc=runtime.vault.encrypt_json({"overall": 4})))
    with runtime.session() as session:
        state = waiting(session, campaign_id, K)
    assert state.short == {(unit + 1000, None): 2} and state.missing == 2 and not state.ready
    assert interim_release(campaign_id) == 0
    assert responses(runtime, campaign_id) == 0


def _physical_order(session, table):
    """The order the database hands rows back in without ORDER BY, or by PostgreSQL's ctid."""
    if session.bind.dialect.name == "postgresql":
        return session.scalars(text(f"SELECT id FROM {table} ORDER BY ctid")).all()
    with pytest.raises(OperationalError):
        session.execute(text(f"SELECT rowid FROM {table}"))
    session.rollback()
    return session.scalars(text(f"SELECT id FROM {table}")).all()


def _spearman(ranks):
    n = len(ranks)
    return 1 - 6 * sum((i - r) ** 2 for i, r in enumerate(ranks)) / (n * (n * n - 1))


def test_storage_order_links_no_answer_set_to_its_invitation(runtime, campaign_id):
    sets = 24
    phones = complete(runtime, campaign_id, sets)
    with runtime.transaction() as session:
        close(session, session.get(Campaign, campaign_id), NOW + timedelta(days=1), runtime)
    run_jobs(runtime)
    with runtime.session() as session:
        order = _physical_order(session, "responses")
        comment = dict(session.execute(select(Answer.response_id, Answer.value).where(Answer.question_id == "comment")).all())
    # The attacker's guess: the k-th row stored is the k-th invitation completed (completed_at order).
    completion_rank = {f"respondent {phone}": rank for rank, phone in enumerate(phones)}
    ranks = [completion_rank[comment[response_id]] for response_id in order]
    assert len(ranks) == sets
    links = sum(1 for position, rank in enumerate(ranks) if position == rank)
    # A random order gives about one exact link and no correlation; batches of five gave ~5 and rho ~0.97.
    assert links < 6
    assert abs(_spearman(ranks)) < 0.6


def test_redis_down_at_close_strands_nothing(config, redis, campaign_id):
    from workers.schedule import release_due_pools

    runtimes.install(Runtime(config, redis=redis))
    complete(runtimes.current(), campaign_id, 4)
    # Nothing listens on port 1: every enqueue and cache write fails, as with Redis stopped.
    down = Runtime(config, redis=redis_client.Redis(port=1, socket_connect_timeout=0.2))
    runtimes.install(down)
    with down.transaction() as session:
        close(session, session.get(Campaign, campaign_id), NOW + timedelta(days=1), down)
    with down.session() as session:
        assert session.scalar(select(func.count()).select_from(PooledAnswerSet)) == 4
    # The clock's sweeper runs (Redis still down): the database alone says the pool is due.
    assert release_due_pools() == 4
    assert release_due_pools() == 0
    with down.session() as session:
        assert session.scalar(select(func.count()).select_from(PooledAnswerSet)) == 0
        assert session.get(ResponseCount, campaign_id).responses == 4
        assert session.scalar(select(func.count()).select_from(Response)) == 4


def test_two_releases_racing_write_each_set_once(runtime, campaign_id):
    from workers.store import release_pool

    complete(runtime, campaign_id, 2 * K)
    with runtime.transaction() as session:
        session.add(ReleaseRequest(campaign_id=campaign_id, requested_on=NOW.date()))
    written, errors, start = [], [], threading.Barrier(2)

    def worker():
        try:
            start.wait()
            written.append(release_pool(campaign_id))
        except Exception as error:  # SQLite may refuse the second writer; it retries in production
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(written + [0] * len(errors)) == [0, 2 * K]
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 2 * K
        assert session.get(ResponseCount, campaign_id).responses == 2 * K
        assert session.scalar(select(func.count()).select_from(Release)) == 1


def test_the_api_asks_for_an_interim_release_and_says_what_it_waits_for(client, runtime, redis):
    from service.models import AuditEvent
    from tests.service.api_data import draft
    from tests.service.api_data import make_world

    world = make_world(runtime)
    campaign_id = draft(runtime, world)
    with runtime.transaction() as session:
        session.get(Campaign, campaign_id).status = "open"
        session.add_all(PooledAnswerSet(campaign_id=campaign_id, unit_id=world.unit_ids[0], group_id=None, language="nb",
                                        answers_enc=runtime.vault.encrypt_json({"overall": 4})) for _ in range(3))
    url = f"/api/v1/campaigns/{campaign_id}/release"
    before = client.get(f"/api/v1/campaigns/{campaign_id}/results", headers=world.headers)
    asked = client.post(url, headers=world.headers)
    assert asked.status_code == 202
    assert asked.json["next_release"] == "interim_requested" and asked.json["more_answers_needed"] == K - 3
    assert asked.json["waiting_for"] == [{"unit_id": world.unit_ids[0], "unit": "Nord", "group_id": None, "group": None, "more": K - 3}]
    run_jobs(runtime)
    assert client.get(f"/api/v1/campaigns/{campaign_id}/results", headers=world.headers).json == before.json
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "release_requested")) == 1
    assert client.post(f"/api/v1/campaigns/{campaign_id}/close", headers=world.headers).status_code == 200
    refused = client.post(url, headers=world.headers)
    assert refused.status_code == 409 and "closed one is released in full" in refused.json["error"]["message"]


def test_the_admin_asks_for_an_interim_release_on_the_campaign_page(client, runtime):
    from tests.service.admin_support import login
    from tests.service.admin_support import make_campaign
    from tests.service.admin_support import make_org
    from tests.service.admin_support import post

    org = make_org(runtime)
    campaign_id = make_campaign(runtime, org)
    with runtime.transaction() as session:
        session.get(Campaign, campaign_id).status = "open"
        session.add_all(PooledAnswerSet(campaign_id=campaign_id, unit_id=org.unit_ids[0], group_id=None, language="nb",
                                        answers_enc=runtime.vault.encrypt_json({"overall": 4})) for _ in range(2))
    login(client, org.admin)
    page = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Results appear at close" in page and "Ask for an interim release" in page
    asked = post(client, f"/admin/campaigns/{campaign_id}/release", page=f"/admin/campaigns/{campaign_id}")
    assert asked.status_code == 302
    live = client.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    assert f"waits for {K - 2} more answers" in live and f"Nord, no group: {K - 2} more" in live
    with runtime.session() as session:
        assert session.get(ReleaseRequest, campaign_id) is not None


def test_the_progress_page_names_each_unit_and_group_an_interim_release_waits_for(client, runtime):
    from service.models import RespondentGroup
    from tests.service.admin_support import login
    from tests.service.admin_support import make_campaign
    from tests.service.admin_support import make_org
    from tests.service.admin_support import post

    org = make_org(runtime)
    campaign_id = make_campaign(runtime, org)
    with runtime.transaction() as session:
        session.get(Campaign, campaign_id).status = "open"
        parents = RespondentGroup(organisation_id=org.organisation_id, name="Foreldre")
        session.add(parents)
        session.flush()
        pooled = [(org.unit_ids[0], parents.id)] * 4 + [(org.unit_ids[1], parents.id)] + [(org.unit_ids[1], None)] * K
        session.add_all(PooledAnswerSet(campaign_id=campaign_id, unit_id=unit_id, group_id=group_id, language="nb",
                                        answers_enc=runtime.vault.encrypt_json({"overall": 4})) for unit_id, group_id in pooled)
    login(client, org.admin)
    post(client, f"/admin/campaigns/{campaign_id}/release", page=f"/admin/campaigns/{campaign_id}")
    live = client.get(f"/admin/campaigns/{campaign_id}/live").get_data(as_text=True)
    # Each short group by unit × group and how many it lacks; a group already at k is not named.
    assert f"waits for {(K - 4) + (K - 1)} more answers" in live
    assert f"Nord × Foreldre: {K - 4} more" in live and f"Sør × Foreldre: {K - 1} more" in live
    assert "Sør, no group" not in live
