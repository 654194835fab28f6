"""Where a group is hidden to protect another, the page and the API name the unit × group that needs answers, and how many (A6)."""
import html

from service.models import Campaign
from service.answer_side.results import campaign_results
from tests.service.admin_support import login
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units
from tests.service.test_results_page_cache import users


def two_units(runtime):
    # Bjerke has 3 answers (hidden); Nord = Alna + Bjerke is shown, so Alna must hide to protect Bjerke.
    world = campaign_with_units(runtime, areas={"Nord": ["Alna", "Bjerke"]}, groups=("Spor 1",))
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 8)
    add_answers(runtime, world, "Bjerke", "Spor 1", [answer_set(overall=2)] * 3)
    return world


def test_the_api_says_which_block_a_hidden_one_protects_and_how_many_it_lacks(runtime):
    world = two_units(runtime)
    with runtime.session() as session:
        document = campaign_results(session, session.get(Campaign, world.campaign_id), "en", min_cell=5, min_comments=10)
    reasons = {(row["unit"], row["group"]): row["hidden_reason"] for row in document["responses"] if row["count"] is None}
    alna, bjerke = f"unit:{world.units['Alna']}", f"unit:{world.units['Bjerke']}"
    assert reasons[(bjerke, "all")] == {"kind": "few_answers", "answers": 3, "more_needed": 2}
    protecting = [reason for (unit, _group), reason in reasons.items() if unit == alna]
    assert protecting and all(reason["kind"] == "protects" for reason in protecting)
    for reason in protecting:
        # It names a block that is itself hidden for too few answers, and exactly what that block lacks.
        protected = reasons[(reason["unit"], reason["group"])]
        assert protected["kind"] == "few_answers" and reason["more_needed"] == protected["more_needed"] > 0


def test_the_results_page_names_the_unit_and_group_and_how_many_more(client, runtime):
    world = two_units(runtime)
    admin, _coordinator = users(runtime, world)
    login(client, admin)
    page = html.unescape(client.get(f"/admin/campaigns/{world.campaign_id}/results").get_data(as_text=True))
    assert "Hidden so that Bjerke" in page and "cannot be worked out; 2 more answers there would show both." in page
    assert "Hidden: 3 answers; 2 more would show it." in page


def test_the_page_names_the_group_too_when_a_unit_and_group_is_protected(client, runtime):
    world = campaign_with_units(runtime, areas={"Nord": ["Alna", "Bjerke"]})
    for unit, group, size in [("Alna", "Spor 1", 8), ("Alna", "Spor 2", 7), ("Bjerke", "Spor 1", 3), ("Bjerke", "Spor 2", 9)]:
        add_answers(runtime, world, unit, group, [answer_set(overall=3)] * size)
    admin, _coordinator = users(runtime, world)
    login(client, admin)
    page = html.unescape(client.get(f"/admin/campaigns/{world.campaign_id}/results").get_data(as_text=True))
    assert "Hidden so that Bjerke · Spor 1 cannot be worked out; 2 more answers there would show both." in page
