"""Results from the cache: the same protected table, computed again once the pool writes responses."""
from service.models import Campaign
from service.results import campaign_results
from service.results_cache import cached_results
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units


def both(runtime, world, **options):
    settings = {"min_cell": 5, "min_comments": 10, **options}
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        return cached_results(session, campaign, "nb", **settings), campaign_results(session, campaign, "nb", **settings)


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
    overall = next(q for q in after["questions"] if q["id"] == "overall")
    assert next(c for c in overall["cells"] if c["unit"] == "organisation" and c["group"] == "all")["n"] == 20


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
