"""Anonymous exports: CSV and Flow Results rows, coarsened small cells, nothing identifying (A6)."""
import csv
import io
import json
import re
import zipfile
from collections import Counter

from sqlalchemy import select

from service.infra import runtime as runtimes
from service.answer_side.exports import answers_csv
from service.answer_side.flow_results import flow_results_zip
from service.models import Campaign
from service.models import Response
from service.infra.runtime import Runtime
from tests.factories import invite
from tests.factories import open_campaign
from tests.service.conversation import answer_all
from tests.service.conversation import say
from tests.service.results_data import add_answers
from tests.service.results_data import answer_set
from tests.service.results_data import campaign_with_units
from tests.service.release_support import interim_release

FLOIP_TYPES = {"select_one", "select_many", "numeric", "text", "open"}


def export_csv(runtime, campaign_id, min_cell=5) -> list[dict]:
    with runtime.session() as session:
        body = answers_csv(session, session.get(Campaign, campaign_id), min_cell)
    return list(csv.DictReader(io.StringIO(body)))


def export_zip(runtime, campaign_id, language="nb", min_cell=5) -> zipfile.ZipFile:
    with runtime.session() as session:
        body = flow_results_zip(session, session.get(Campaign, campaign_id), language, min_cell)
    return zipfile.ZipFile(io.BytesIO(body))


def world_with_small_cells(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set(overall=4)] * 12)
    add_answers(runtime, world, "Alna", "Spor 2", [answer_set(overall=5)] * 8)
    add_answers(runtime, world, "Bjerke", "Spor 1", [answer_set(overall=2)] * 3)
    add_answers(runtime, world, "Bjerke", "Spor 2", [answer_set(overall=3)] * 6)
    add_answers(runtime, world, "Nordstrand", "Spor 1", [answer_set(overall=6)] * 10)
    add_answers(runtime, world, "Søndre", "Spor 2", [answer_set(overall=1)] * 2)
    # One speaker of Arabic and one respondent over 50 in a unit of ten.
    add_answers(runtime, world, "Nordstrand", "Spor 2", [answer_set(age="age_50_up")], language="ar")
    add_answers(runtime, world, "Nordstrand", "Spor 2", [answer_set()] * 9)
    return world


def test_csv_has_one_row_per_response_and_no_response_id(runtime):
    world = world_with_small_cells(runtime)
    rows = export_csv(runtime, world.campaign_id)
    assert list(rows[0])[:6] == ["row_id", "campaign_id", "unit", "group", "language", "complete"]
    assert "comment" not in rows[0], "free text is never exported"
    assert len(rows) == 51
    with runtime.session() as session:
        response_ids = set(session.scalars(select(Response.id)))
    body = json.dumps(rows)
    assert not any(response_id in body for response_id in response_ids)
    again = export_csv(runtime, world.campaign_id)
    assert len({row["row_id"] for row in rows}) == 51
    assert not {row["row_id"] for row in rows} & {row["row_id"] for row in again}


def test_every_unit_and_group_label_covers_at_least_k_rows(runtime):
    world = world_with_small_cells(runtime)
    rows = export_csv(runtime, world.campaign_id)
    labels = Counter((row["unit"], row["group"]) for row in rows)
    assert min(labels.values()) >= 5, labels
    # Bjerke's three and Søndre's two are never shown under their own unit and group.
    assert ("Bjerke", "Spor 1") not in labels and ("Søndre", "Spor 2") not in labels
    # Coarsened rows keep their answers, so the totals still add up.
    assert Counter(row["overall"] for row in rows)["2"] == 3


def test_language_and_background_answers_are_blanked_where_they_would_single_out(runtime):
    world = world_with_small_cells(runtime)
    rows = export_csv(runtime, world.campaign_id)
    assert not [row for row in rows if row["language"] == "ar"]
    assert not [row for row in rows if row["age_group"] == "age_50_up"]
    attributes = ("unit", "group", "language", "age_group", "track", "time_in_programme")
    combinations = Counter(tuple(row[a] for a in attributes) for row in rows)
    assert min(combinations.values()) >= 5, combinations


def test_fewer_than_k_answers_in_all_exports_nothing(runtime):
    world = campaign_with_units(runtime)
    add_answers(runtime, world, "Alna", "Spor 1", [answer_set()] * 4)
    assert export_csv(runtime, world.campaign_id) == []
    assert json.loads(export_zip(runtime, world.campaign_id).read("responses.json")) == []


def test_flow_results_package_follows_the_specification(runtime):
    world = world_with_small_cells(runtime)
    archive = export_zip(runtime, world.campaign_id, "en")
    assert sorted(archive.namelist()) == ["datapackage.json", "responses.csv", "responses.json"]
    descriptor = json.loads(archive.read("datapackage.json"))
    assert descriptor["profile"] == "flow-results-package"
    assert descriptor["flow_results_specification_version"] == "1.0.0-rc1"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", descriptor["id"])
    assert descriptor["id"] == json.loads(export_zip(runtime, world.campaign_id).read("datapackage.json"))["id"]
    (resource,) = descriptor["resources"]
    assert resource["path"] == "responses.json"
    fields = [field["name"] for field in resource["schema"]["fields"]]
    assert fields == ["timestamp", "row_id", "contact_id", "session_id", "question_id", "response", "response_metadata"]
    questions = resource["schema"]["questions"]
    assert {q["type"] for q in questions.values()} <= FLOIP_TYPES
    assert questions["overall"]["type"] == "select_one"
    assert questions["overall"]["type_options"]["choices"] == ["1", "2", "3", "4", "5", "6", "dont_know"]
    assert questions["overall"]["label"].startswith("All in all")
    assert questions["age_group"]["type_options"]["choices"][0] == "under_25"
    assert "comment" not in questions
    data = json.loads(archive.read("responses.json"))
    assert all(len(row) == 7 for row in data)
    assert {row[4] for row in data} <= set(questions)
    assert len({row[1] for row in data}) == len(data)
    sessions = Counter(row[3] for row in data)
    assert len(sessions) == 51 and len({row[2] for row in data}) == 51
    for row in data:
        choices = questions[row[4]]["type_options"].get("choices")
        assert choices is None or row[5] in choices or set(row[5]) <= set(choices), row
    units = Counter(row[6]["unit"] for row in data if row[4] == "overall")
    assert "Bjerke" not in units or units["Bjerke"] >= 5
    header = next(csv.reader(io.StringIO(archive.read("responses.csv").decode())))
    assert header == fields


def test_exports_carry_nothing_identifying_and_no_time_finer_than_the_campaign(config, redis):
    runtime = Runtime(config, redis=redis)
    runtimes.install(runtime)
    phones = [f"+47940000{n:02d}" for n in range(6)]
    with runtime.transaction() as session:
        campaign = open_campaign(session)
        codes = [invite(session, runtime, campaign, phone=phone)[1] for phone in phones]
        campaign_id = campaign.id
    for phone in phones:
        say(runtime, phone, "Hei")
        answer_all(runtime, phone, text_answer=f"Hilsen fra {phone}")
    interim_release(campaign_id)
    with runtime.session() as session:
        response_ids = list(session.scalars(select(Response.id)))
        csv_body = answers_csv(session, session.get(Campaign, campaign_id), 5)
        zip_body = flow_results_zip(session, session.get(Campaign, campaign_id), "nb", 5)
    archive = zipfile.ZipFile(io.BytesIO(zip_body))
    texts = [csv_body] + [archive.read(name).decode() for name in archive.namelist()]
    secrets = set(phones) | {p.lstrip("+") for p in phones} | {p[3:] for p in phones} | set(codes)
    secrets |= {code.replace("-", "") for code in codes} | set(response_ids)
    secrets |= {runtime.vault.address_hash("sms", phone) for phone in phones}
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert len(list(csv.DictReader(io.StringIO(csv_body)))) == 6
    header = csv_body.splitlines()[0].split(",")
    assert not [column for column in header if re.search(r"time|date|_at$|stamp", column) and column != "time_in_programme"]
    # Every timestamp is the opening day of the campaign, at midnight local time.
    data = json.loads(archive.read("responses.json"))
    assert {row[0] for row in data} == {"2026-10-04T00:00:00+02:00"}
    for name in archive.namelist():
        assert archive.getinfo(name).date_time == (2026, 10, 4, 0, 0, 0)
    # Nothing in either file looks like a clock time other than that midnight.
    for text in texts:
        times = set(re.findall(r"\d{2}:\d{2}:\d{2}", text))
        assert times <= {"00:00:00"} | _package_times(archive)


def _package_times(archive) -> set:
    """The descriptor's created/modified: when the export was made, not when anyone answered."""
    descriptor = json.loads(archive.read("datapackage.json"))
    return {descriptor["created"][11:19], descriptor["modified"][11:19]}
