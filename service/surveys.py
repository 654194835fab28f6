"""Survey versions: bundled files stored as pinned versions, parsed once per process."""
import hashlib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select

from flows.definitions import bundled_survey_paths
from flows.definitions import parse_survey
from flows.model import Survey

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


def survey_of(version: SurveyVersion) -> Survey:
    return _parse(version.sha256, version.source, f"{version.key} v{version.version}")


@lru_cache(maxsize=64)
def _parse(_digest: str, source: str, name: str) -> Survey:
    # Keyed by content digest: a stored version never changes, so parse once.
    return parse_survey(source, name)
