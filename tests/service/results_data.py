"""Answer-side data for the results and export tests: units in areas, groups, pooled answer sets."""
from dataclasses import dataclass

from sqlalchemy import select
from datetime import timedelta

from service.models import Campaign
from service.models import Organisation
from service.models import PooledAnswerSet
from service.models import RespondentGroup
from service.models import Unit
from service.answer_side.releases import _write
from service.surveys import latest
from service.surveys import sync_bundled
from tests.factories import NOW
from tests.factories import SURVEY

SCALES = [
    "information_start", "norwegian_tuition", "programme_content", "work_education", "adviser",
    "listened_to", "own_plan", "respect", "practical_help", "rights_duties", "overall",
]


@dataclass
class Answers:
    campaign_id: int
    organisation_id: int
    units: dict  # name -> id
    groups: dict  # name -> id


def campaign_with_units(runtime, areas=None, groups=("Spor 1", "Spor 2")) -> Answers:
    """An organisation with units under areas, respondent groups and an open campaign over the units."""
    areas = areas or {"Nord": ["Alna", "Bjerke"], "Sør": ["Nordstrand", "Søndre"]}
    with runtime.transaction() as session:
        sync_bundled(session)
        organisation = Organisation(name="Resultatby kommune", timezone="Europe/Oslo", default_language="nb", region="NO")
        session.add(organisation)
        session.flush()
        units = {}
        for area, names in areas.items():
            parent = Unit(organisation_id=organisation.id, name=area)
            session.add(parent)
            session.flush()
            for name in names:
                unit = Unit(organisation_id=organisation.id, name=name, parent_id=parent.id)
                session.add(unit)
                session.flush()
                units[name] = unit.id
        group_rows = [RespondentGroup(organisation_id=organisation.id, name=name) for name in groups]
        session.add_all(group_rows)
        session.flush()
        campaign = Campaign(
            organisation_id=organisation.id,
            survey_version_id=latest(session, SURVEY).id,
            name="Høst 2026",
            status="open",
            default_language="nb",
            opens_at=NOW - timedelta(days=1),
            closes_at=NOW + timedelta(days=28),
            units=[session.get(Unit, unit_id) for unit_id in units.values()],
        )
        session.add(campaign)
        session.flush()
        return Answers(campaign.id, organisation.id, units, {g.name: g.id for g in group_rows})


def answer_set(overall=5, comment=None, age="age_25_34", interpreter="no", **values) -> dict:
    """A complete answer set: every scale `overall` unless given, background and comment."""
    answers = {question_id: overall for question_id in SCALES}
    answers.update({"interpreter_used": interpreter, "age_group": age, "track": "standard", "time_in_programme": "years_1_2"})
    if interpreter == "yes":
        answers["interpreter_quality"] = overall
    answers["comment"] = comment
    answers.update(values)
    return answers


def add_answers(runtime, world: Answers, unit: str, group: str | None, sets: list[dict], language="nb", complete=True):
    """Put answer sets through the real mixing pool onto the answer side."""
    with runtime.transaction() as session:
        for answers in sets:
            session.add(PooledAnswerSet(
                campaign_id=world.campaign_id,
                unit_id=world.units[unit],
                group_id=world.groups[group] if group else None,
                language=language,
                complete=complete,
                answers_enc=runtime.vault.encrypt_json(answers),
            ))
        session.flush()
        _write(session, runtime, list(session.scalars(select(PooledAnswerSet).where(PooledAnswerSet.campaign_id == world.campaign_id))))
