"""Results from the answer side: distributions, means, small cells hidden (A6), comments."""

from service.config import Config
from service.models import Campaign
from service.answer_side.result_tables import block_equations
from service.answer_side.results import campaign_results
from service.answer_side.results import protect_campaign
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units
from tests.service.test_suppression import recovered_by_subtraction
from tests.service.release_support import interim_release
from tests.service.attacker import attack
from tests.service.test_integer_attacker import documents


def results(runtime, world, language="nb", min_cell=5, min_comments=10, unit_scope=None):
    with runtime.session() as session:
        campaign = session.get(Campaign, world.campaign_id)
        return campaign_results(session, campaign, language, min_cell=min_cell, min_comments=min_comments, unit_scope=unit_scope)


def cell(data, question_id, unit="organisation", group="all"):
    question = next(q for q in data["questions"] if q["id"] == question_id)
    return next(c for c in question["cells"] if c["unit"] == unit and c["group"] == group)


def unit_key(world, name):
    return f"unit:{world.units[name]}"


def group_key(world, name):
    return f"group:{world.groups[name]}"


def big_campaign(runtime):
    """Every unit and group well above k, so everything is shown."""
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 6 + [answer_set(overall=5)] * 6)
    add_answers(runtime, world, "Alna", "Spor 2", [answer_set(overall=6)] * 7)
    add_answers(runtime, world, "Bjerke", "Spor 1", [answer_set(overall=4)] * 5 + [answer_set(overall="dont_know")] * 5)
    add_answers(runtime, world, "Nordstrand", "Spor 2", [answer_set(overall=5)] * 8)
    add_answers(runtime, world, "Søndre", "Spor 2", [answer_set(overall=6, age=None)] * 9)
    return world


def test_distribution_and_mean_by_unit_group_and_organisation(runtime):
    world = big_campaign(runtime)
    data = results(runtime, world)
    org = cell(data, "overall")
    assert org["n"] == 46 and org["answered"] == 41 and org["dont_know"] == 5 and org["skipped"] == 0
    assert org["counts"] == {"1": 0, "2": 0, "3": 0, "4": 11, "5": 14, "6": 16}
    # The mean leaves out don't know and skipped.
    assert org["mean"] == round((4 * 11 + 5 * 14 + 6 * 16) / 41, 2)
    alna = cell(data, "overall", unit_key(world, "Alna"))
    assert alna["n"] == 19 and alna["mean"] == round((24 + 30 + 42) / 19, 2)
    track_two = cell(data, "overall", group=group_key(world, "Spor 2"))
    assert track_two["counts"]["6"] == 16 and track_two["counts"]["5"] == 8
    assert cell(data, "age_group")["skipped"] == 9
    # The areas above the units carry their totals.
    area = next(u for u in data["units"] if u["name"] == "Nord")
    assert cell(data, "overall", area["key"])["n"] == 29
    responses = {(r["unit"], r["group"]): r["count"] for r in data["responses"]}
    assert responses[("organisation", "all")] == 46


def test_labels_come_from_the_pinned_survey_in_the_language_asked(runtime):
    world = big_campaign(runtime)
    english = results(runtime, world, "en")
    question = next(q for q in english["questions"] if q["id"] == "overall")
    assert question["text"].startswith("All in all")
    assert question["options"][0] == {"value": "1", "label": "1 Very dissatisfied"}
    assert question["options"][-1]["value"] == "skipped"
    norsk = next(q for q in results(runtime, world, "nb")["questions"] if q["id"] == "overall")
    assert norsk["text"].startswith("Alt i alt")


def test_a_small_unit_shows_nothing_and_takes_a_sibling_along(runtime):
    world = big_campaign(runtime)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=1)] * 3)
    data = results(runtime, world)
    small = cell(data, "overall", unit_key(world, "Bjerke"), group_key(world, "Spor 2"))
    assert small["suppressed"] and small["n"] is None and small["mean"] is None
    assert set(small["counts"].values()) == {None}
    # Bjerke's Spor 2 cell cannot be had as Bjerke minus Spor 1, nor as Spor 2 minus the other units.
    responses = {(r["unit"], r["group"]): r["count"] for r in data["responses"]}
    hidden = [key for key, count in responses.items() if count is None]
    assert len(hidden) >= 4
    # A shown group shows its whole distribution (A6), its 3 answers of 1 too; none of them can be placed.
    docs, leaves = documents(runtime, world, [None] + [{unit_id} for unit_id in world.units.values()])
    assert attack(docs, leaves) == []


def test_no_hidden_response_count_falls_out_by_subtraction(runtime):
    world = big_campaign(runtime)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set()] * 2)
    add_answers(runtime, world, "Søndre", "Spor 1", [answer_set()] * 4)
    with runtime.session() as session:
        protected = protect_campaign(session, session.get(Campaign, world.campaign_id), 5)
    equations = block_equations(protected.layout, lambda block: block)
    nonzero = {block for block in protected.hidden if protected.responses[block]}
    assert nonzero and not recovered_by_subtraction(protected.responses, equations, protected.hidden) & nonzero


def test_the_threshold_comes_from_the_environment(monkeypatch, runtime):
    monkeypatch.setenv("SVAR_MIN_CELL", "3")
    monkeypatch.setenv("SVAR_MIN_COMMENTS", "4")
    assert Config().min_cell == 3 and Config().min_comments == 4
    monkeypatch.delenv("SVAR_MIN_CELL")
    monkeypatch.delenv("SVAR_MIN_COMMENTS")
    assert Config().min_cell == 5 and Config().min_comments == 10
    world = big_campaign(runtime)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=1)] * 3)
    shown = cell(results(runtime, world, min_cell=3), "overall", unit_key(world, "Bjerke"), group_key(world, "Spor 2"))
    assert shown["n"] == 3 and shown["counts"]["1"] == 3


def test_comments_need_the_higher_threshold_and_come_unordered(runtime):
    world = campaign_with_units(runtime)
    many = [f"Kommentar nummer {n}" for n in range(12)]
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(comment=text) for text in many])
    add_answers(runtime, world, "Nordstrand", "Spor 1", [answer_set(comment=f"Nordstrand {n}") for n in range(11)])
    add_answers(runtime, world, "Bjerke", "Spor 1", [answer_set(comment=f"Bjerke {n}") for n in range(4)] + [answer_set()] * 4)
    comments = results(runtime, world)["comments"]["comment"]
    # Bjerke wrote 4: never listed as Bjerke's, and the next smallest unit is held back too,
    # so the organisation's list minus the listed units is never Bjerke's alone.
    assert unit_key(world, "Bjerke") not in comments["units"]
    assert list(comments["units"]) == [unit_key(world, "Alna")]
    assert sorted(comments["units"][unit_key(world, "Alna")]) == sorted(many)
    assert len(comments["organisation"]) == 27 and "Bjerke 0" in comments["organisation"]
    orders = {tuple(results(runtime, world)["comments"]["comment"]["organisation"]) for _ in range(5)}
    assert len(orders) > 1, "comments came in a fixed order"
    few = campaign_with_units(runtime)
    add_answers(runtime, few, "Alna", "Spor 1", [answer_set(comment=f"Hei {n}") for n in range(9)])
    assert results(runtime, few)["comments"]["comment"] == {"organisation": None, "units": {}}


def test_a_coordinators_scope_narrows_the_units_shown(runtime):
    world = big_campaign(runtime)
    data = results(runtime, world, unit_scope={world.units["Alna"]})
    units = {c["unit"] for c in next(q for q in data["questions"] if q["id"] == "overall")["cells"]}
    assert units == {"organisation", unit_key(world, "Alna")}
    assert {u["key"] for u in data["units"]} == {"organisation", unit_key(world, "Alna")}


def test_results_reflect_real_conversations(config, redis):
    from service.infra import runtime as runtimes
    from service.infra.runtime import Runtime

    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    phones = [f"+47930000{n:02d}" for n in range(6)]
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        for phone in phones:
            invite(session, runtime, campaign, phone=phone)
        campaign_id = campaign.id
    for phone in phones:
        say(runtime, phone, "Hei")
        answer_all(runtime, phone, text_answer="Fint program")
    interim_release(campaign_id)
    with runtime.session() as session:
        data = campaign_results(session, session.get(Campaign, campaign_id), "nb", min_cell=5, min_comments=10)
    overall = cell(data, "overall")
    # answer_all picks the first option offered: 1 on the scale.
    assert overall["n"] == 6 and overall["counts"]["1"] == 6 and overall["mean"] == 1.0
    assert cell(data, "interpreter_used")["counts"]["yes"] == 6
    assert cell(data, "comment")["answered"] == 6
    assert data["comments"]["comment"] == {"organisation": None, "units": {}}
