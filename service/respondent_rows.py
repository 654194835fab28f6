"""One uploaded respondent row checked against its campaign: language, unit, group."""
from sqlalchemy import select

from .models import Campaign
from .models import RespondentGroup
from .surveys import survey_of


class RowError(ValueError):
    """Why a row cannot be used; the message is shown to the uploader."""


class RowReader:
    """Reads language, unit and group of rows for one campaign, with its defaults."""

    def __init__(self, session, campaign: Campaign):
        self.campaign = campaign
        self.languages = survey_of(campaign.survey_version).languages
        self.units = {unit.id: unit for unit in campaign.units}
        self.unit_names = {unit.name.strip().casefold(): unit.id for unit in campaign.units}
        self.groups = set(
            session.scalars(select(RespondentGroup.id).where(RespondentGroup.organisation_id == campaign.organisation_id))
        )

    def __call__(self, row: dict) -> tuple[str, int, int | None]:
        """(language, unit_id, group_id) of `row`, or raise RowError."""
        return self.language(row.get("language")), self.unit(row), self.group(row.get("group_id"))

    def language(self, given) -> str:
        language = given or self.campaign.default_language
        if not isinstance(language, str) or language.strip().lower() not in self.languages:
            raise RowError(f"language is not one of the survey's: {', '.join(self.languages)}")
        return language.strip().lower()

    def unit(self, row: dict) -> int:
        given = row.get("unit_id")
        if given in (None, ""):
            # CSV uploads name the unit (or give its id) in a "unit" column.
            given = row.get("unit")
        if given in (None, ""):
            if len(self.units) == 1:
                return next(iter(self.units))
            raise RowError("unit is required: the campaign has several units")
        if isinstance(given, str) and given.strip().casefold() in self.unit_names:
            return self.unit_names[given.strip().casefold()]
        unit_id = as_id(given)
        if unit_id not in self.units:
            raise RowError("unit is not one of the campaign's units")
        return unit_id

    def group(self, given) -> int | None:
        if given in (None, ""):
            return None
        group_id = as_id(given)
        if group_id not in self.groups:
            raise RowError("group is not one of the organisation's groups")
        return group_id


def as_id(value) -> int | None:
    """An integer id from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
