"""Campaign preview: each language's messages with SMS segments, and the cost of the invitations."""
from flows.segments import count
from service.outbox.code_slots import CODE_SLOT
from service.models import Campaign
from service.dispatch.preview import SAMPLE_CODE
from service.dispatch.preview import campaign_preview
from tests.service.api_data import PHONES
from tests.service.api_data import draft
from tests.service.api_data import make_world


def test_preview_over_the_api(client, runtime):
    world = make_world(runtime)
    campaign_id = draft(runtime, world)
    rows = [
        {"phone": PHONES[0], "unit_id": world.unit_ids[0], "language": "nb"},
        {"phone": PHONES[1], "unit_id": world.unit_ids[0], "language": "nb"},
        {"phone": PHONES[2], "unit_id": world.unit_ids[0], "language": "ar"},
    ]
    assert client.post(f"/api/v1/campaigns/{campaign_id}/respondents", headers=world.headers, json={"respondents": rows}).status_code == 200
    response = client.get(f"/api/v1/campaigns/{campaign_id}/preview", headers=world.headers)
    assert response.status_code == 200
    preview = response.json
    by_language = {entry["language"]: entry for entry in preview["languages"]}
    assert list(by_language) == ["nb", "nn", "da", "sv", "en", "ar", "so", "ti", "fa", "fa_AF", "uk", "pl"]
    nb, ar = by_language["nb"], by_language["ar"]
    assert (nb["name"], ar["name"], ar["english_name"]) == ("norsk bokmål", "العربية", "Arabic")
    # Norwegian stays GSM-7 throughout; Arabic is UCS-2.
    assert nb["encoding"] == "GSM-7" and ar["encoding"] == "UCS-2"
    invitation = nb["messages"][0]
    assert invitation["kind"] == "invitation" and SAMPLE_CODE in invitation["text"]
    assert invitation["segments"] == count(invitation["text"]).segments == nb["invitation_segments"]
    # The reminder as the sweeper writes it, its code set in as the send does, and counted so.
    [reminder] = [m for m in nb["messages"] if m["kind"] == "reminder"]
    assert reminder["text"].startswith("Påminnelse") and SAMPLE_CODE in reminder["text"]
    assert reminder["segments"] == count(reminder["text"]).segments
    assert not any(CODE_SLOT in m["text"] for entry in preview["languages"] for m in entry["messages"])
    kinds = [m["kind"] for m in nb["messages"]]
    assert kinds.count("question") == 17 and kinds.count("thank_you") == 1 and "reminder" in kinds
    assert [m["question_id"] for m in nb["messages"] if m["kind"] == "question"][:2] == ["information_start", "norwegian_tuition"]
    assert nb["cost_segments"]["invitations"] == 2 * nb["invitation_segments"]
    assert ar["cost_segments"]["invitations"] == ar["invitation_segments"]
    assert by_language["da"]["invitations"] == 0 and by_language["da"]["cost_segments"]["invitations"] == 0
    totals = preview["totals"]
    assert totals["invitations"] == 3
    assert totals["invitation_segments"] == 2 * nb["invitation_segments"] + ar["invitation_segments"]
    assert totals["segments_if_everyone_answers"] == 2 * (nb["invitation_segments"] + nb["conversation_segments"]) + ar["invitation_segments"] + ar["conversation_segments"]


def test_preview_is_scoped_to_the_organisation(client, runtime):
    world = make_world(runtime)
    other = make_world(runtime, name="Annenby kommune")
    campaign_id = draft(runtime, world)
    assert client.get(f"/api/v1/campaigns/{campaign_id}/preview", headers=other.headers).status_code == 404
    assert client.get(f"/api/v1/campaigns/{campaign_id}/preview").status_code == 401


def test_preview_follows_the_campaigns_languages(runtime):
    world = make_world(runtime)
    campaign_id = draft(runtime, world)
    with runtime.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        campaign.languages = ["ar", "nb"]
        preview = campaign_preview(session, campaign)
    assert [entry["language"] for entry in preview["languages"]] == ["nb", "ar"]
    arabic = preview["languages"][1]
    first = next(m for m in arabic["messages"] if m["kind"] == "question")
    # What respondents get, marks included: each line opens right to left.
    assert all(line.startswith("\u200f") for line in first["text"].splitlines())
