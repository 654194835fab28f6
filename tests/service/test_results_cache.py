"""Results from the cache: the same protected table, computed again once the pool writes responses."""
import json

from service.models import Campaign
from service.answer_side.results import campaign_results
from service.answer_side.results_cache import cached_results
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units


def both(runtime, world, **options):
    settings = {"min_cell": 5, "min_comments": 10, **options}
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        return cached_results(session, campaign, "nb", **settings), campaign_results(session, campaign, "nb", **settings)


def organisation_n(results) -> int:
    """Respondents to the overall question across the organisation, as the table shows them."""
    overall = next(q for q in results["questions"] if q["id"] == "overall")
    return next(c for c in overall["cells"] if c["unit"] == "organisation" and c["group"] == "all")["n"]


def test_a_cached_table_equals_the_computed_one_and_follows_each_pool_flush(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6 + [answer_set(overall=5, comment="Bra")] * 6)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=6)] * 3)
    first, computed = both(runtime, world)
    assert first == computed
    again, _ = both(runtime, world)
    assert again == first
    assert len(runtime.redis.keys("svar:results:*")) == 1
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=2)] * 5)
    after, computed = both(runtime, world)
    assert after == computed and after != first
    assert organisation_n(after) == 20


def test_scope_threshold_and_language_each_have_their_own_entry(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 7)
    everything, _ = both(runtime, world)
    scoped, computed = both(runtime, world, unit_scope={world.units["Alna"]})
    assert scoped == computed and scoped != everything
    strict, computed = both(runtime, world, min_cell=10)
    assert strict == computed and strict != everything


def test_without_redis_the_table_is_computed(runtime, monkeypatch):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 7)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(runtime.redis, "get", down)
    monkeypatch.setattr(runtime.redis, "set", down)
    cached, computed = both(runtime, world)
    assert cached == computed


def pool(runtime, world, unit, group, sets):
    """Answer sets waiting in the pool, not yet written."""
    from service.models import PooledAnswerSet

    with runtime.transaction() as session:
        session.add_all(PooledAnswerSet(
            campaign_id=world.campaign_id, unit_id=world.units[unit], group_id=world.groups[group], language="nb",
            complete=True, answers_enc=runtime.vault.encrypt_json(answers),
        ) for answers in sets)


def run_warm_jobs(runtime):
    queue = runtime.queue("default")
    jobs = [job for job in queue.get_jobs() if job.func_name == "workers.store.warm_results"]
    for job in jobs:
        job.func(*job.args)
        queue.remove(job)
    return len(jobs)


def no_computing(monkeypatch):
    """Make counting the answers fail: a reader that still gets a table got it from the cache."""
    import service.answer_side.results_cache

    def refuse(*args, **kwargs):
        raise AssertionError("a reader counted the answers")

    monkeypatch.setattr(service.answer_side.results_cache, "count_campaign", refuse)


def test_the_pool_flush_keeps_the_response_counter(runtime):
    from sqlalchemy import func
    from sqlalchemy import select

    from service.models import Response
    from service.answer_side.results_cache import response_count
    from tests.service.release_support import interim_release

    world = campaign_with_units(runtime)
    with runtime.session() as session:
        assert response_count(session, world.campaign_id) == 0
    pool(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    assert interim_release(world.campaign_id) == 6
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=3)] * 2)
    with runtime.session() as session:
        counted = session.scalar(select(func.count()).select_from(Response).where(Response.campaign_id == world.campaign_id))
        assert response_count(session, world.campaign_id) == counted == 8


def test_the_flush_warms_the_cache_so_readers_compute_nothing(runtime, monkeypatch):
    from tests.service.release_support import interim_release

    world = campaign_with_units(runtime)
    pool(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    pool(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=5, comment="Fint")] * 6)
    interim_release(world.campaign_id)
    assert run_warm_jobs(runtime) == 1
    no_computing(monkeypatch)
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        settings = {"min_cell": 5, "min_comments": 10}
        everything = cached_results(session, campaign, "nb", **settings)
        # A coordinator's scope and another language come from the same counted figures.
        scoped = cached_results(session, campaign, "nb", unit_scope={world.units["Alna"]}, **settings)
        english = cached_results(session, campaign, "en", **settings)
    monkeypatch.undo()
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert everything == campaign_results(session, campaign, "nb", **settings)
        assert scoped == campaign_results(session, campaign, "nb", unit_scope={world.units["Alna"]}, **settings)
        assert english == campaign_results(session, campaign, "en", **settings)


def test_while_a_worker_warms_readers_get_the_previous_table(runtime, monkeypatch):
    from tests.service.release_support import interim_release

    world = campaign_with_units(runtime)
    pool(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    interim_release(world.campaign_id)
    run_warm_jobs(runtime)
    before, _ = both(runtime, world)
    pool(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=2)] * 6)
    interim_release(world.campaign_id)
    no_computing(monkeypatch)
    with runtime.session() as session:
        meanwhile = cached_results(session, session.get(Campaign, world.campaign_id), "nb", min_cell=5, min_comments=10)
    assert meanwhile == before
    monkeypatch.undo()
    assert run_warm_jobs(runtime) == 1
    after, computed = both(runtime, world)
    assert after == computed and after != before
    assert organisation_n(after) == 12


def test_a_renamed_unit_shows_at_once(runtime):
    from service.models import Unit

    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 7)
    first, _ = both(runtime, world)
    with runtime.transaction() as session:
        session.get(Unit, world.units["Alna"]).name = "Alna bydel"
    renamed, computed = both(runtime, world)
    assert renamed == computed and renamed != first
    assert "Alna bydel" in [unit["name"] for unit in renamed["units"]]


def test_a_flush_during_the_count_does_not_mix_two_states_in_one_table(runtime, monkeypatch):
    import pytest

    import service.answer_side.results
    from tests.service.release_support import interim_release

    if runtime.config.database_url.startswith("sqlite"):
        pytest.skip("SQLite: every transaction holds the write lock, so no flush can land mid-count")
    world = campaign_with_units(runtime)
    pool(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6)
    interim_release(world.campaign_id)
    before, _ = both(runtime, world)
    runtime.redis.flushall()
    pool(runtime, world, "Alna", "Spor 1", [answer_set(overall=2)] * 6)
    question_rows = service.answer_side.results.question_rows

    def flush_first(*args, **kwargs):
        # The respondents were counted; now the pool writes, then the answers are counted.
        monkeypatch.setattr(service.answer_side.results, "question_rows", question_rows)
        interim_release(world.campaign_id)
        return question_rows(*args, **kwargs)

    monkeypatch.setattr(service.answer_side.results, "question_rows", flush_first)
    with runtime.session() as session:
        during = cached_results(session, session.get(Campaign, world.campaign_id), "nb", min_cell=5, min_comments=10)
    assert during == before


def test_the_cache_holds_protected_figures_as_json_and_nothing_to_unpickle(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6 + [answer_set(overall=5)] * 6)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=2)] * 3)
    cached, computed = both(runtime, world)
    assert cached == computed
    keys = runtime.redis.keys("svar:results*")
    assert keys
    hidden_values = set()
    for key in keys:
        _count, _newline, body = runtime.redis.get(key).partition(b"\n")
        # json.loads raises on a pickle: every entry is plain JSON.
        document = json.loads(body)
        if b"results-counted" in key:
            hidden = {json.dumps(block) for block, _reason in document["reasons"]}
            assert hidden, "Bjerke's 3 answers are hidden"
            for _question_id, values, _hidden in document["questions"]:
                hidden_values |= {json.dumps(cell_key[0]) for cell_key, _value in values} & hidden
    assert not hidden_values, "a hidden group's figures must not rest in Redis"
    # Bjerke's answers (all 2) appear nowhere: the one hidden block's figures are not cached.
    again, _ = both(runtime, world)
    assert again == cached
