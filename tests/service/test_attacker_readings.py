"""The integer attacker reads everything one role can read (issue 15): API, pages, exports, releases, progress.

The campaign goes through the real pool and release path: two interim
releases (every changed group gaining at least k) and the close, which
releases whatever is left, however few. At each release the administrator
reads the API's results, the page's figures (the same protected document),
the CSV export and the Flow Results package; a coordinator reads her
units' API results. The attacker puts every reading of one role together,
the progress counts of each release too, and bounds every hidden figure of
every release and every change between releases that touches fewer than k
answers.
"""
import random

import pytest
from sqlalchemy import select

from service.dispatch.closing import close
from service.models import Campaign
from service.models import PooledAnswerSet
from service.models import utcnow
from service.answer_side.results import campaign_results
from tests.service.attacker import Reading
from tests.service.attacker import attack_readings
from tests.service.attacker import export_buckets
from tests.service.attacker import export_labels
from tests.service.attacker import flow_results_buckets
from tests.service.attacker import leaf_counts
from tests.service.release_support import interim_release
from tests.service.results_data import campaign_with_units
from tests.service.test_api_results import token_for
from tests.service.test_integer_attacker import random_answers
from tests.service.test_releases import run_jobs
from workers.store import release_pool

K = 5
ATTACKED = ["overall", "interpreter_used", "interpreter_quality", "age_group"]
AREAS = {"Nord": ["Alna", "Bjerke"], "Sør": ["Nordstrand"]}
# Answers each release adds per (unit, group): interim ones give every changed group >= k, the close does not.
RELEASES = [
    {("Alna", "Spor 1"): 7, ("Alna", "Spor 2"): 5, ("Bjerke", "Spor 1"): 5, ("Bjerke", "Spor 2"): 6, ("Nordstrand", "Spor 1"): 6},
    {("Alna", "Spor 1"): 5, ("Nordstrand", "Spor 2"): 5, ("Bjerke", "Spor 2"): 6},
    {("Alna", "Spor 2"): 1, ("Bjerke", "Spor 1"): 2, ("Nordstrand", "Spor 2"): 3, ("Nordstrand", "Spor 1"): 1},
]


def pool(runtime, world, sizes: dict, rng):
    """Completed answer sets waiting in the pool, as the conversation step leaves them."""
    with runtime.transaction() as session:
        for (unit, group), size in sizes.items():
            for _ in range(size):
                session.add(PooledAnswerSet(
                    campaign_id=world.campaign_id, unit_id=world.units[unit], group_id=world.groups[group],
                    language="nb", mode="sms", complete=True, answers_enc=runtime.vault.encrypt_json(random_answers(rng)),
                ))


def read(client, runtime, world, headers: dict, admin: bool) -> Reading:
    """Everything `headers`' role reads of the campaign now, with the progress counts."""
    base = f"/api/v1/campaigns/{world.campaign_id}"
    documents = [client.get(f"{base}/results", headers=headers).get_json()]
    exports = []
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        leaves = leaf_counts(session, world.campaign_id, grouped=True)
        if admin:
            # The results page shows the same protected document the API answers.
            documents.append(campaign_results(session, campaign, "nb", min_cell=K, min_comments=10))
            labels = export_labels(session, campaign, K, grouped=True)
    if admin:
        exports += export_buckets(client.get(f"{base}/exports/answers.csv", headers=headers).get_data(as_text=True), labels)
        exports += flow_results_buckets(client.get(f"{base}/exports/flow-results.zip", headers=headers).get_data(), labels)
    return Reading(documents, leaves, exports)


def released_campaign(client, runtime):
    """The campaign through its releases; per role, what it read at each."""
    world = campaign_with_units(runtime, areas=AREAS)
    admin = token_for(runtime, world, "admin")
    coordinator = token_for(runtime, world, "coordinator", units=["Alna"])
    rng = random.Random(15)
    readings = {"admin": [], "coordinator": []}
    for number, sizes in enumerate(RELEASES):
        pool(runtime, world, sizes, rng)
        if number < len(RELEASES) - 1:
            assert interim_release(world.campaign_id) == sum(sizes.values())
        else:
            with runtime.transaction() as session:
                close(session, session.get(Campaign, world.campaign_id), utcnow(), runtime)
            assert release_pool(world.campaign_id) == sum(sizes.values())
        run_jobs(runtime)
        readings["admin"].append(read(client, runtime, world, admin, admin=True))
        readings["coordinator"].append(read(client, runtime, world, coordinator, admin=False))
    return world, readings


def test_no_reading_of_one_role_across_interim_releases_recovers_a_hidden_group(client, runtime):
    _world, readings = released_campaign(client, runtime)
    # At the close every block that gained 1 to k-1 answers is held back, the organisation with them here,
    # so nothing is left to export.
    assert all(reading.exports for reading in readings["admin"][:2]) and not readings["admin"][2].exports
    for role, role_readings in readings.items():
        # The interim releases together, each changed group gaining >= k; and the close on its own.
        assert attack_readings(role_readings[:2], ATTACKED, K) == [], role
        assert attack_readings(role_readings[2:], ATTACKED, K) == [], role


def test_a_coordinators_results_change_only_at_releases_around_one_completion(client, runtime):
    world = campaign_with_units(runtime, areas=AREAS)
    coordinator = token_for(runtime, world, "coordinator", units=["Alna"])
    rng = random.Random(3)
    pool(runtime, world, RELEASES[0], rng)
    assert interim_release(world.campaign_id) == sum(RELEASES[0].values())
    run_jobs(runtime)
    before = read(client, runtime, world, coordinator, admin=False)
    body = client.get(f"/api/v1/campaigns/{world.campaign_id}/results", headers=coordinator).get_data()
    # One more respondent in her unit completes: the progress page shows the step, the results do not.
    pool(runtime, world, {("Alna", "Spor 1"): 1}, rng)
    run_jobs(runtime)
    with runtime.session() as session:
        pooled = session.scalars(select(PooledAnswerSet).where(PooledAnswerSet.campaign_id == world.campaign_id)).all()
    assert len(pooled) == 1
    assert client.get(f"/api/v1/campaigns/{world.campaign_id}/results", headers=coordinator).get_data() == body
    assert attack_readings([before], ATTACKED, K) == []


def test_the_coordinators_scoped_results_follow_each_release(client, runtime):
    _world, readings = released_campaign(client, runtime)
    for number, after in enumerate(readings["coordinator"]):
        total = [r["count"] for r in after.documents[0]["responses"] if r["unit"] == "organisation" and r["group"] == "all"]
        # The organisation total she reads is the one of the release just made (it was one behind);
        # at the close it is held back with the groups that gained fewer than k.
        assert total == ([sum(after.leaves.values())] if number < 2 else [None])


def test_the_close_holds_back_each_group_that_gained_fewer_than_k_since_the_last_release(client, runtime):
    _world, readings = released_campaign(client, runtime)
    before, after = readings["admin"][1], readings["admin"][2]
    reasons = {(r["unit"], r["group"]): r["hidden_reason"] for r in after.documents[0]["responses"]}
    gained = {leaf: after.leaves[leaf] - before.leaves.get(leaf, 0) for leaf in after.leaves}
    for leaf, gain in gained.items():
        if 0 < gain < K:
            # Shown at the interim release with its k or more, hidden at the close, and saying why.
            assert reasons[leaf] is not None, leaf
    assert {"kind": "late_answers", "more_needed": 0} in reasons.values()


def test_the_close_differenced_with_the_last_interim_release_isolates_no_few_answers(client, runtime):
    _world, readings = released_campaign(client, runtime)
    for role, role_readings in readings.items():
        assert attack_readings(role_readings, ATTACKED, K) == [], role
