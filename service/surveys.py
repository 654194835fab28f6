"""Survey versions: bundled files stored as pinned versions, parsed once per process."""
import hashlib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select

from flows.definitions import bundled_survey_paths
from flows.definitions import parse_survey
from flows.model import Survey

from .models import Campaign
from .models import SurveyVersion


class SurveyVersionConflict(Exception):
    """A survey file changed without a new version number."""


def sync_file(session, path: Path) -> SurveyVersion:
    """Store a survey file as a version, once; a changed file must bump `version`."""
    source = Path(path).read_text(encoding="utf-8")
    survey = parse_survey(source, str(path))
    digest = hashlib.sha256(source.encode()).hexdigest()
    stored = session.scalar(
        select(SurveyVersion).where(SurveyVersion.key == survey.key, SurveyVersion.version == survey.version)
    )
    if stored is None:
        stored = SurveyVersion(key=survey.key, version=survey.version, sha256=digest, source=source)
        session.add(stored)
        session.flush()
    elif stored.sha256 != digest:
        raise SurveyVersionConflict(
            f"{path}: survey {survey.key!r} version {survey.version} is already stored with other content; "
            "raise `version` in the file"
        )
    return stored


def sync_bundled(session) -> list[SurveyVersion]:
    return [sync_file(session, path) for path in bundled_survey_paths()]


def latest(session, key: str) -> SurveyVersion | None:
    newest = select(func.max(SurveyVersion.version)).where(SurveyVersion.key == key).scalar_subquery()
    return session.scalar(select(SurveyVersion).where(SurveyVersion.key == key, SurveyVersion.version == newest))


# Parsed surveys by the digest of their source: a step needs no source text once its version was seen.
_by_digest: dict[str, Survey] = {}
# Survey versions are few; the bound only guards against a runaway.
_BY_DIGEST_MAX = 256


def survey_of(version: SurveyVersion) -> Survey:
    """The parsed survey of a stored version; its source is read (a deferred column may load) only on the first use."""
    survey = _by_digest.get(version.sha256)
    if survey is not None:
        return survey
    source = version.source
    survey = _parse(version.sha256, source, f"{version.key} v{version.version}")
    # Only a digest that is the source's own may stand for it.
    if hashlib.sha256(source.encode()).hexdigest() == version.sha256:
        if len(_by_digest) >= _BY_DIGEST_MAX:
            _by_digest.clear()
        _by_digest[version.sha256] = survey
    return survey


def parsed_survey(digest: str) -> Survey | None:
    """The survey this process already parsed from a source of this digest (survey_of), or None."""
    return _by_digest.get(digest)


@lru_cache(maxsize=64)
def _parse(_digest: str, source: str, name: str) -> Survey:
    # Keyed by content digest: a stored version never changes, so parse once.
    return parse_survey(source, name)


def survey_title(survey, *languages: str) -> str:
    """The survey's title in the first of `languages` it has, else its default."""
    for language in (*languages, survey.default_language):
        if survey.title.get(language):
            return survey.title[language]
    return survey.key


def offered_languages(campaign: Campaign) -> tuple[str, ...]:
    """The campaign's languages that its survey has, in the survey's order."""
    survey = survey_of(campaign.survey_version)
    chosen = set(campaign.languages or survey.languages)
    return tuple(language for language in survey.languages if language in chosen) or survey.languages
