"""One respondent row checked against its campaign: language, unit, group and channel."""
from typing import NamedTuple

from sqlalchemy import select

from flows.languages import ASK
from flows.languages import normalise

from ..models import Campaign
from ..models import RespondentGroup
from ..surveys import survey_of

# Channels a respondent row can be invited by; paper codes are printed instead.
ROW_CHANNELS = ("sms", "telegram")


class RowError(ValueError):
    """Why a row cannot be used; the message is shown to the uploader."""


class Placement(NamedTuple):
    """Where a respondent belongs in the campaign and how they are reached."""

    language: str
    unit_id: int
    group_id: int | None
    channel: str


def campaign_languages(campaign: Campaign) -> list[str]:
    """The languages the campaign offers: its own choice, else all of the survey's."""
    return list(campaign.languages or survey_of(campaign.survey_version).languages)


class RowReader:
    """Reads language, unit, group and channel of rows for one campaign, with its defaults."""

    def __init__(self, session, campaign: Campaign):
        self.campaign = campaign
        self.languages = campaign_languages(campaign)
        self.units = {unit.id: unit for unit in campaign.units}
        self.unit_names = {unit.name.strip().casefold(): unit.id for unit in campaign.units}
        if campaign.groups:
            groups = list(campaign.groups)
        else:
            # A campaign that chose no groups takes any group of its organisation.
            groups = session.scalars(
                select(RespondentGroup).where(RespondentGroup.organisation_id == campaign.organisation_id)
            ).all()
        self.groups = {group.id for group in groups}
        self.group_names = {group.name.strip().casefold(): group.id for group in groups}
        self.group_required = len(campaign.groups) > 1
        self.only_group = campaign.groups[0].id if len(campaign.groups) == 1 else None
        self.channels = [channel for channel in ROW_CHANNELS if channel in (campaign.channels or ["sms"])]
        self._languages_seen: dict[str, str | None] = {}

    def __call__(self, row: dict) -> Placement:
        """The placement of `row`, or raise RowError."""
        return Placement(
            self.language(row.get("language")),
            self.unit(row),
            self.group(row.get("group_id") if row.get("group_id") not in (None, "") else row.get("group")),
            self.channel(row.get("channel")),
        )

    def language(self, given, allow_ask: bool = False) -> str:
        """The row's language as the survey writes it ("FA-af" -> "fa_AF"), or the campaign's."""
        if given in (None, ""):
            return self.campaign.default_language
        language = self._normalised(given) if isinstance(given, str) else None
        if allow_ask and isinstance(given, str) and given.strip().lower() == ASK:
            # Paper codes may leave the choice to the respondent.
            return ASK
        if language not in self.languages:
            raise RowError(f"language is not one of the campaign's: {', '.join(self.languages)}")
        return language

    def _normalised(self, given: str) -> str | None:
        # An upload repeats a handful of spellings 100,000 times: normalise each once.
        if given not in self._languages_seen:
            self._languages_seen[given] = normalise(given)
        return self._languages_seen[given]

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
            if self.group_required:
                raise RowError("group is required: the campaign has several groups")
            return self.only_group
        if isinstance(given, str) and given.strip().casefold() in self.group_names:
            return self.group_names[given.strip().casefold()]
        group_id = as_id(given)
        if group_id not in self.groups:
            if self.campaign.groups:
                raise RowError("group is not one of the campaign's groups")
            raise RowError("group is not one of the organisation's groups")
        return group_id

    def channel(self, given) -> str:
        if given in (None, ""):
            if not self.channels:
                raise RowError("the campaign reaches respondents by paper codes only")
            return self.channels[0]
        channel = given.strip().lower() if isinstance(given, str) else None
        if channel not in self.channels:
            offered = ", ".join(self.channels) or "none (paper codes only)"
            raise RowError(f"channel is not one the campaign invites by: {offered}")
        return channel


def as_id(value) -> int | None:
    """An integer id from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
